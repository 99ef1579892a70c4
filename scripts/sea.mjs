#!/usr/bin/env node
/**
 * `npm run sea`: dist/pinget-linux-<arch>, one executable that needs no Node (a Node single-executable
 * application, https://nodejs.org/api/single-executable-applications.html). It is the `node` running this
 * script (the project's own Node 24, node_modules/.bin/node under npm) with the CommonJS bundle of src/sea.ts
 * injected by postject. <arch> is the OCI/Go name (amd64, arm64), as in SHA256SUMS-<arch> and Docker's
 * TARGETARCH, so a Dockerfile can name the file for the platform it builds.
 *
 *   node scripts/sea.mjs [OUT]     (the tests build into tmp/; OUT defaults to dist/pinget-linux-<arch>)
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBundle } from './bundle-lib.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The sentinel Node's binary carries for a SEA blob (the same in every release that has SEAs). */
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const ARCH = { x64: 'amd64', arm64: 'arm64', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' }[process.arch] ?? process.arch;

class Failure extends Error {}
function fail(message) {
  throw new Failure(message);
}

/** Runs a step quietly (postject warns about ELF notes it does not need); its output only when it fails. */
function must(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stdout}${r.stderr}`);
}

let work, part;
try {
  if (process.platform !== 'linux') fail(`builds a Linux executable; this is ${process.platform}`);
  const node = process.execPath;
  if (!readFileSync(node).includes(`${FUSE}:0`)) fail(`${node} (Node ${process.version}) has no single-executable fuse: run it with the project's Node (npm run sea)`);

  mkdirSync(join(repo, 'tmp'), { recursive: true });
  work = mkdtempSync(join(repo, 'tmp', 'sea-build-'));
  const main = join(work, 'pinget.cjs');
  const blob = join(work, 'pinget.blob');
  const out = resolve(process.argv[2] ?? join(repo, 'dist', `pinget-linux-${ARCH}`));
  mkdirSync(dirname(out), { recursive: true });
  part = `${out}.part-${process.pid}`;
  await buildBundle({ entry: join(repo, 'src/sea.ts'), format: 'cjs', outfile: main });
  const config = join(work, 'sea-config.json');
  // useCodeCache: V8's compiled code goes into the blob, so the modules are not compiled at each start.
  // execArgvExtension none: no Node option from the environment or command line changes what runs.
  writeFileSync(config, JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, execArgvExtension: 'none' }));
  must(node, ['--experimental-sea-config', config]);
  copyFileSync(node, part);
  chmodSync(part, 0o755);
  must(node, [join(repo, 'node_modules/postject/dist/cli.js'), part, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', FUSE]);
  const version = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version;
  const r = spawnSync(part, ['--version'], { env: {}, encoding: 'utf8' });
  if (r.status !== 0 || r.stdout.trim() !== version) fail(`the new executable's --version gave exit ${r.status}: ${r.stdout}${r.stderr}`);
  renameSync(part, out);
  process.stdout.write(`${relative(process.cwd(), out)}: pinget ${version} on Node ${process.version}\n`);
} catch (e) {
  if (!(e instanceof Failure)) throw e;
  process.stderr.write(`npm run sea: ${e.message}\n`);
  process.exitCode = 1;
} finally {
  if (part) rmSync(part, { force: true });
  if (work) rmSync(work, { recursive: true, force: true });
}
