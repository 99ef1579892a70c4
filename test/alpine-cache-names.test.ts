/**
 * An Alpine root whose indexes and packages are only in apk's cache, with the mirror unreachable:
 * hash generate finds each cached index under the name its apk-tools generation gave it (2.14.1+'s sha1 of
 * the index URL, the older sha1 of the repository line, apk-tools 3's sha256 of the index URL) and pins every
 * installed package. Before, only the oldest name was tried and generate exited 2 on current Alpine.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheIndexName, cachePackageName, type CacheNaming } from '../distros/alpine/repositories.js';
import { buildApk, buildApkIndex, makeAlpineRoot, makeSigningKey, type BuiltApk, type SigningKey } from './helpers/apk-repo.js';
import { runCli } from './helpers/cli.js';

// a port nothing listens on: every download attempt is refused
const MIRROR = 'http://127.0.0.1:9/alpine/v3.20';
let tmp: string;
let key: SigningKey;
let main: BuiltApk[];
let community: BuiltApk[];

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pinget-apk-cache-names-'));
  key = makeSigningKey('alpine-test-5d0f0a9c.rsa.pub');
  main = [await buildApk({ name: 'musl', version: '1.2.5-r0' }, key), await buildApk({ name: 'apk-tools', version: '2.14.4-r1' }, key)];
  community = [await buildApk({ name: 'nano', version: '8.0-r0' }, key)];
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function cachedRoot(name: string, namings: { main: CacheNaming; community: CacheNaming }, installed = [...main, ...community]): Promise<string> {
  const dir = join(tmp, name);
  const lines = { main: `${MIRROR}/main`, community: `${MIRROR}/community` };
  const idx = (repo: 'main' | 'community') => cacheIndexName({ written: lines[repo], url: lines[repo] }, 'x86_64', namings[repo]);
  const cache: Record<string, Buffer> = {
    [idx('main')]: await buildApkIndex(main, key),
    [idx('community')]: await buildApkIndex(community, key),
  };
  for (const p of installed) cache[cachePackageName(p.spec.name, p.spec.version, p.identity)] = p.bytes;
  await makeAlpineRoot(dir, { repositories: [lines.main, lines.community], installed, keys: [key], cache });
  return dir;
}

const pinned = (stdout: string) => stdout.split('\n').filter((l) => /^[0-9a-f]{64}  /.test(l));

test('both apk-tools 2 generations of cache names in one root, mirror unreachable: every package pinned', async () => {
  const root = await cachedRoot('gen2', { main: 'sha1-index-url', community: 'sha1-repository' });
  const res = await runCli(['hash', 'generate', '--root', root, '--timeout', '5', '--retries', '0']);
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(
    pinned(res.stdout),
    [
      `${main[1].sha256}  v3.20/main/x86_64/apk-tools-2.14.4-r1.apk`,
      `${community[0].sha256}  v3.20/community/x86_64/nano-8.0-r0.apk`,
      `${main[0].sha256}  v3.20/main/x86_64/musl-1.2.5-r0.apk`,
    ].sort((a, b) => (a.slice(66) < b.slice(66) ? -1 : 1)),
  );
});

test("apk-tools 3's names (sha256 of the index URL): every package pinned", async () => {
  const apk3 = await buildApk({ name: 'apk-tools', version: '3.0.1-r1' }, key);
  main = [main[0], apk3];
  const root = await cachedRoot('gen3', { main: 'sha256-index-url', community: 'sha256-index-url' });
  const res = await runCli(['hash', 'generate', '--root', root, '--timeout', '5', '--retries', '0']);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(pinned(res.stdout).length, 3, res.stdout);
});
