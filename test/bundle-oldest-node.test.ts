/**
 * The single-file bundle on the oldest Node pinget supports (package.json engines), installed by
 * .ci/setup.d/10-node-oldest.sh into tmp/node-oldest/: --version, hash generate of a small fake Debian
 * root, and a download over HTTP (undici 8 needs Node >= 22.19).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../src/exec.js';
import { parseLockfile } from '../src/lockfile.js';
import { sha256Bytes } from '../src/verify/sha256.js';
import { REPO_ROOT } from './helpers/cli.js';
import { serveDirectory } from './helpers/http-server.js';

const OLDEST = '22.19.0';
const NODE = join(REPO_ROOT, 'tmp', 'node-oldest', 'node_modules', `node-linux-${process.arch}`, 'bin', 'node');
const present = await access(NODE).then(
  () => true,
  () => false,
);
const skip = !present && process.env.CI !== 'true' ? `no Node ${OLDEST} at tmp/node-oldest (run .ci/setup.d/10-node-oldest.sh)` : false;

const DEB = Buffer.from('!<arch>\nnot a real package, only its bytes matter here\n');
const DEB_PATH = 'pool/main/h/hello/hello_2.10-3_amd64.deb';

/** etc/os-release, one installed package in dpkg's status, and the (unsigned) apt list that gives its hash. */
async function fakeDebianRoot(root: string): Promise<void> {
  await mkdir(join(root, 'etc'), { recursive: true });
  await mkdir(join(root, 'var/lib/dpkg'), { recursive: true });
  await mkdir(join(root, 'var/lib/apt/lists'), { recursive: true });
  await writeFile(join(root, 'etc/os-release'), 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n');
  await writeFile(join(root, 'var/lib/dpkg/status'), 'Package: hello\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.10-3\n\n');
  await writeFile(
    join(root, 'var/lib/apt/lists/mirror.test_debian_dists_bookworm_main_binary-amd64_Packages'),
    `Package: hello\nArchitecture: amd64\nVersion: 2.10-3\nFilename: ${DEB_PATH}\nSize: ${DEB.length}\nSHA256: ${sha256Bytes(DEB)}\n\n`,
  );
}

test(`the bundle runs on Node ${OLDEST}: --version, hash generate --root, download`, { skip }, async (t) => {
  assert.ok(present, `CI=true but Node ${OLDEST} is missing at ${NODE}: .ci/setup.d/10-node-oldest.sh did not run`);
  const version = await run(NODE, ['--version']);
  assert.equal(version.stdout.trim(), `v${OLDEST}`);

  const build = await run('npm', ['run', '--silent', 'bundle'], { cwd: REPO_ROOT });
  assert.equal(build.code, 0, build.stderr);
  const dir = await mkdtemp(join(tmpdir(), 'pinget-oldest-node-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // Alone in a directory: nothing beside it to resolve imports from.
  const bundle = join(dir, 'pinget.mjs');
  await copyFile(join(REPO_ROOT, 'dist', 'pinget.mjs'), bundle);
  const pinget = (args: string[]) => run(NODE, [bundle, ...args], { cwd: dir, env: { ...process.env, NODE_PATH: '' } });

  const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  const v = await pinget(['--version']);
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout.trim(), pkg.version);

  const root = join(dir, 'root');
  await fakeDebianRoot(root);
  const gen = await pinget(['hash', 'generate', '--root', root, '--allow-unsigned']);
  assert.equal(gen.code, 0, gen.stderr);
  assert.deepEqual(parseLockfile(gen.stdout).entries.map((e) => [e.sha256, e.path]), [[sha256Bytes(DEB), DEB_PATH]]);

  const www = join(dir, 'www');
  await mkdir(join(www, 'pool/main/h/hello'), { recursive: true });
  await writeFile(join(www, DEB_PATH), DEB);
  const server = await serveDirectory(www);
  t.after(() => server.close());
  await writeFile(join(dir, 'SHA256SUMS'), gen.stdout);
  const out = join(dir, 'out');
  const dl = await pinget(['download', join(dir, 'SHA256SUMS'), '-o', out, '--provider', `${server.url}/{{.Name}}`, '--cache', join(dir, 'cache')]);
  assert.equal(dl.code, 0, dl.stderr);
  assert.deepEqual(await readFile(join(out, DEB_PATH)), DEB);
});
