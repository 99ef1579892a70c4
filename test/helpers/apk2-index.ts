/**
 * A v2 APKINDEX.tar.gz made by the real `apk index` (apk 2.14, built by .ci/setup.d/40-apk-tools.sh) from
 * packages of ./apk-repo.ts, then signed as abuild-sign does (a signature member put in front). Unlike
 * buildApkIndex, its records are apk's own reading of each package (I: installed size, t: build time,
 * D:, p:), so what `apk add` copies from the index into the installed database is what a real index says.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FIXED_MTIME, signatureMember, type BuiltApk, type SigningKey } from './apk-repo.js';
import { apkBuildHint, realApk } from './real-apk.js';

const run = promisify(execFile);

/**
 * `scratch`: a directory of the test's own where the packages and the key are put for apk while it runs.
 * `rewriteArch`: list noarch packages under this architecture (`apk index --rewrite-arch`, as abuild does: apk
 * fetches a package from the directory of the arch its record names).
 */
export async function realApkIndex(pkgs: BuiltApk[], key: SigningKey, scratch: string, description = 'v3.20.0-test', rewriteArch?: string): Promise<Buffer> {
  const apk = await realApk(2);
  if (apk === undefined) throw new Error(`apk 2 is not built: ${apkBuildHint}`);
  const dir = await mkdtemp(join(scratch, '.apk2-index-'));
  try {
    await writeFile(join(dir, key.name), key.publicPem);
    const files: string[] = [];
    for (const p of pkgs) {
      files.push(join(dir, p.fileName));
      await writeFile(files.at(-1)!, p.bytes);
    }
    const out = join(dir, 'APKINDEX.tar.gz');
    const env = { ...process.env, SOURCE_DATE_EPOCH: String(Math.floor(FIXED_MTIME.getTime() / 1000)) };
    // --keys-dir: apk index refuses packages whose signature it cannot check
    const rewrite = rewriteArch ? ['--rewrite-arch', rewriteArch] : [];
    await run(apk, ['--keys-dir', dir, 'index', ...rewrite, '--description', description, '--output', out, ...files], { env });
    const body = await readFile(out);
    return Buffer.concat([await signatureMember(key, body), body]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
