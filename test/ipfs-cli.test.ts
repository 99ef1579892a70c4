/** `pinget cache push ipfs` and `download --provider ipfs://` through the CLI, against the real js-ipfs RPC node. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import { runCli } from './helpers/cli.js';
import { startIpfsNode } from './helpers/ipfs-node.js';
import { parseLockfile } from '../src/lockfile.js';
import { run } from '../src/exec.js';

test('cache push ipfs writes /ipfs/ lines and the import header; download through ipfs:// alone verifies every file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-ipfs-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const node = await startIpfsNode();
  t.after(() => node.close());

  const lines = ['# pinget lockfile v1', '# distro: debian 12 (bookworm) amd64'];
  for (const [i, size] of [1000, 3 << 20].entries()) {
    const data = randomBytes(size);
    const path = `pool/main/p/pkg${i}/pkg${i}_1.0_all.deb`;
    await mkdir(join(dir, 'repo', 'pool/main/p', `pkg${i}`), { recursive: true });
    await writeFile(join(dir, 'repo', path), data);
    lines.push(`${createHash('sha256').update(data).digest('hex')}  ${path}`);
  }
  const lockfile = join(dir, 'SHA256SUMS');
  await writeFile(lockfile, lines.join('\n') + '\n');

  const push = await runCli(['cache', 'push', 'ipfs', lockfile, '--ipfs-api', node.api, '--cache', join(dir, 'cache'), '--provider', `file://${join(dir, 'repo')}/{{.Name}}`]);
  assert.equal(push.code, 0, push.stderr);
  const lock = parseLockfile(await readFile(lockfile, 'utf8'));
  assert.equal(lock.cids.size, 2);
  assert.match(lock.headers['ipfs-import'], /cidv1 raw-leaves chunker=size-1048576/);
  assert.equal(lock.headers.distro, 'debian 12 (bookworm) amd64', 'other headers kept');

  const out = join(dir, 'out');
  const dl = await runCli(['download', lockfile, '-o', out, '--provider', 'ipfs://', '--ipfs-api', node.api, '--cache', join(dir, 'cache2')]);
  assert.equal(dl.code, 0, dl.stderr);
  const check = await run('sha256sum', ['-c', '--ignore-missing', lockfile], { cwd: out });
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.equal(check.stdout.trim().split('\n').length, 2);
});
