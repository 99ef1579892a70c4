// A directory of random "packages" under pool/ and the lockfile naming them: for tests of fetching and output that
// need real bytes behind real hashes but no package format.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Bytes } from '../../src/verify/sha256.js';

export interface PoolEntry { path: string; sha256: string; data: Buffer }

/** `count` files of `size + i` random bytes under `www`, and their `<sha256>  <path>` lines written to `lockfile`. */
export async function writeRandomPool(www: string, lockfile: string, count: number, size: number): Promise<PoolEntry[]> {
  const entries: PoolEntry[] = [];
  for (let i = 0; i < count; i++) {
    const data = randomBytes(size + i);
    const path = `pool/main/t/test${i}/test${i}_1_all.deb`;
    await mkdir(join(www, 'pool/main/t', `test${i}`), { recursive: true });
    await writeFile(join(www, path), data);
    entries.push({ path, sha256: sha256Bytes(data), data });
  }
  await writeFile(lockfile, entries.map((e) => `${e.sha256}  ${e.path}\n`).join(''));
  return entries;
}
