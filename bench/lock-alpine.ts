/**
 * `lock` for Alpine, warm (the packages in pinget's cache; the index fetched from 127.0.0.1 each run, as lock
 * always does: an index names no hash of itself), against the real apk 3's `add --simulate` of the same name on a
 * copy of the same base, over the same index on disk (apk's own warm case: nothing to fetch). The repository has
 * 20000 index records (Alpine main and community together are about that), 40 of them real signed packages in
 * one dependency chain that the request resolves to; the key is made for the run.
 */
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { buildApk, buildApkIndex, makeAlpineRoot, makeSigningKey, type BuiltApk } from '../test/helpers/apk-repo.js';
import { apkPathDir } from '../test/helpers/real-apk.js';
import { pythonServer } from './fixtures.js';
import { comparePair, timeProcess, type Cmd, type Figure } from './measure.js';

const RECORDS = 20_000;
const CHAIN = 40;

export async function alpineLockFigure(o: { work: string; rounds: number; pinget: (args: string[], extra?: Partial<Cmd>) => Cmd }): Promise<Figure> {
  const what = `lock (Alpine, apk 3) of a ${CHAIN}-package chain, ${RECORDS} index records, packages cached, vs apk add --simulate over the same index on disk`;
  const apkDir = await apkPathDir(3, o.work);
  if (!apkDir) return { what, maxRatio: 1.5, skipped: 'apk 3 is not built (bash .ci/setup.d/40-apk-tools.sh)' };
  const key = makeSigningKey('pinget-bench.rsa.pub');
  const chain: BuiltApk[] = [];
  for (let i = 0; i < CHAIN; i++) {
    const files = { [`usr/share/p${i}/data`]: randomBytes(16 << 10).toString('base64') };
    chain.push(await buildApk({ name: `p${i}`, version: '1.0-r0', depends: i + 1 < CHAIN ? [`p${i + 1}`] : [], files }, key));
  }
  // Records no request reaches: only the index's size matters, so their identities are made up.
  const filler = Array.from({ length: RECORDS - CHAIN }, (_, i) => ({ spec: { name: `filler${i}`, version: '1.0-r0', arch: 'x86_64', depends: ['p0'] }, identity: `Q1${randomBytes(20).toString('base64')}`, bytes: Buffer.alloc(1000) }) as unknown as BuiltApk);
  const www = join(o.work, 'alpine-www');
  const dir = join(www, 'v3.20/main/x86_64');
  await mkdir(dir, { recursive: true });
  const index = await buildApkIndex([...chain, ...filler], key);
  await writeFile(join(dir, 'APKINDEX.tar.gz'), index);
  for (const p of chain) await writeFile(join(dir, p.fileName), p.bytes);
  await writeFile(join(www, 'manifest.json'), '{}\n');
  const server = await pythonServer(www);
  try {
    const base = join(o.work, 'alpine-base');
    await makeAlpineRoot(base, { repositories: [`${server.url}/v3.20/main`], installed: [], keys: [key] });
    const env = { ...process.env, PATH: `${apkDir}:${process.env.PATH}`, APK_CONFIG: '/dev/null' };
    const cache = join(o.work, 'alpine-lock-cache');
    const lock = o.pinget(['lock', 'p0', '--root', base, '--cache', cache, '-o', join(o.work, 'alpine-lock')], { env });
    await timeProcess(lock);

    // The reference: the same index as a local repository, a copy of the base as its root.
    const ref = join(o.work, 'alpine-ref');
    await cp(base, join(ref, 'root'), { recursive: true });
    await mkdir(join(ref, 'repo/x86_64'), { recursive: true });
    await writeFile(join(ref, 'repo/x86_64/APKINDEX.tar.gz'), index);
    await writeFile(join(ref, 'repositories'), `${join(ref, 'repo')}\n`);
    const simulate: Cmd = {
      argv: [join(apkDir, 'apk'), 'add', '--simulate', '--root', join(ref, 'root'), '--arch', 'x86_64', '--repositories-file', join(ref, 'repositories'), '--keys-dir', join(base, 'etc/apk/keys'), '--no-network', '--no-cache', '--no-interactive', 'p0'],
      env,
    };
    const pair = await comparePair(lock, simulate, o.rounds);
    return { what, pair, maxRatio: 1.5, maxRssMiB: 200 };
  } finally {
    await server.close();
  }
}
