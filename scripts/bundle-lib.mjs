/**
 * The single-file pinget, built twice: once to render its --help/--version outputs with yargs
 * (scripts/render-help.mjs), then with those outputs defined in (PINGET_FAST_OUTPUT) so it prints them without
 * loading yargs (src/fast-help.ts). `esm`: dist/pinget.mjs for `node` (npm run bundle). `cjs`: the main script
 * of the single executable (npm run sea), which Node 24 runs as CommonJS only, so with no top-level await.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const version = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version;

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

/** CommonJS modules inside expect require() and __dirname (@cyclonedx/cyclonedx-library names its schema folder by it). */
const ESM_BANNER =
  "import { createRequire as __pingetCreateRequire } from 'node:module'; const require = __pingetCreateRequire(import.meta.url); const __dirname = import.meta.dirname;";
/** ES modules inside read import.meta.url (yargs finds its locales by it): the file's own URL, the executable's in a SEA. */
const CJS_BANNER = "var __pingetImportMetaUrl = require('node:url').pathToFileURL(__filename).href;";

const options = ({ entry, format, outfile }, define) => ({
  entryPoints: [entry],
  bundle: true,
  platform: 'node',
  format,
  target: 'node22.19',
  outfile,
  legalComments: 'none',
  define: { PINGET_VERSION: JSON.stringify(version), ...(format === 'cjs' ? { 'import.meta.url': '__pingetImportMetaUrl' } : {}), ...define },
  banner: { js: format === 'cjs' ? CJS_BANNER : ESM_BANNER },
  // A SEA's main script can import() nothing but built-in modules: every import() becomes a require().
  ...(format === 'cjs' ? { supported: { 'dynamic-import': false } } : {}),
  logLevel: 'warning',
  // @cyclonedx/cyclonedx-library's optional plug-ins (XML, schema validation) are require()d only when used,
  // which pinget never does: they stay out of the bundle.
  external: ['xmlbuilder2', 'libxmljs2', 'ajv', 'ajv-formats', 'ajv-formats-draft2019'],
  plugins: [deferStringWidth],
});

/** Builds `entry` into the one file `outfile`, its --help and --version rendered in. */
export async function buildBundle(o) {
  await build(options(o, {}));
  const tmp = mkdtempSync(join(tmpdir(), 'pinget-bundle-'));
  try {
    const json = join(tmp, 'help-text.json');
    const r = spawnSync(process.execPath, [join(repo, 'scripts/render-help.mjs'), o.outfile, json], { stdio: 'inherit' });
    if (r.status !== 0) process.exit(1);
    await build(options(o, { PINGET_FAST_OUTPUT: JSON.stringify(readFileSync(json, 'utf8')) }));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
