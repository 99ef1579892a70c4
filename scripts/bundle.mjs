#!/usr/bin/env node
/**
 * `npm run bundle`: the single-file dist/pinget.mjs. Built twice: once to render its --help/--version
 * outputs with yargs (scripts/render-help.mjs), then with those outputs defined in (PINGET_FAST_OUTPUT) so
 * the bundle prints them without loading yargs (src/fast-help.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const version = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version;
const outfile = join(repo, 'dist/pinget.mjs');
/**
 * yargs' and cliui's string-width become the stand-in of src/ui/ascii-string-width.ts (what src/cli.ts does
 * for dist/ with a resolve hook): the real one is require()d on first need, which esbuild turns into a
 * lazily initialised module, so its Intl.Segmenter is not built at every start.
 */
const deferStringWidth = {
  name: 'defer-string-width',
  setup(b) {
    b.onResolve({ filter: /^string-width$/ }, async (args) => {
      if (args.kind !== 'import-statement' || args.pluginData?.real) return undefined;
      const real = await b.resolve('string-width', { kind: 'require-call', resolveDir: args.resolveDir, pluginData: { real: true } });
      if (real.errors.length) return { errors: real.errors };
      return { path: real.path, namespace: 'deferred-string-width' };
    });
    b.onLoad({ filter: /.*/, namespace: 'deferred-string-width' }, (args) => ({
      contents: `import { deferredWidth } from ${JSON.stringify(join(repo, 'src/ui/ascii-string-width.ts'))};\nexport default deferredWidth(() => require(${JSON.stringify(args.path)}).default);\n`,
      resolveDir: repo,
      loader: 'js',
    }));
  },
};

const options = (define) => ({
  entryPoints: [join(repo, 'src/cli.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22.19',
  outfile,
  legalComments: 'none',
  define: { PINGET_VERSION: JSON.stringify(version), ...define },
  // CommonJS modules inside expect require() and __dirname (@cyclonedx/cyclonedx-library names its schema folder by it).
  banner: {
    js: "import { createRequire as __pingetCreateRequire } from 'node:module'; const require = __pingetCreateRequire(import.meta.url); const __dirname = import.meta.dirname;",
  },
  logLevel: 'warning',
  // @cyclonedx/cyclonedx-library's optional plug-ins (XML, schema validation) are require()d only when used,
  // which pinget never does: they stay out of the bundle.
  external: ['xmlbuilder2', 'libxmljs2', 'ajv', 'ajv-formats', 'ajv-formats-draft2019'],
  plugins: [deferStringWidth],
});

await build(options({}));
const tmp = mkdtempSync(join(tmpdir(), 'pinget-bundle-'));
try {
  const json = join(tmp, 'help-text.json');
  const r = spawnSync(process.execPath, [join(repo, 'scripts/render-help.mjs'), outfile, json], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
  await build(options({ PINGET_FAST_OUTPUT: JSON.stringify(readFileSync(json, 'utf8')) }));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
