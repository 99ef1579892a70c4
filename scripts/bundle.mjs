#!/usr/bin/env node
/**
 * `npm run bundle`: the single-file dist/pinget.mjs (an ES module run by `node`). The build itself is
 * scripts/bundle-lib.mjs, shared with `npm run sea` (scripts/sea.mjs), which makes a CommonJS one.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBundle } from './bundle-lib.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
await buildBundle({ entry: join(repo, 'src/cli.ts'), format: 'esm', outfile: join(repo, 'dist/pinget.mjs') });
