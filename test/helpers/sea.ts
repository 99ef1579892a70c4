/**
 * The single executable (`npm run sea`, scripts/sea.mjs) for the tests, built once per source state into the
 * gitignored tmp/sea/ and reused: keyed by every file it is built from (src/, distros/, scripts/, package.json,
 * package-lock.json) and the Node that builds it. A build of another state replaces the older one.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../src/exec.js';
import { REPO_ROOT } from './cli.js';

async function sourceKey(): Promise<string> {
  const h = createHash('sha256').update(`${process.version}\n${process.execPath}\n`);
  const files = ['package.json', 'package-lock.json'];
  for (const dir of ['src', 'distros', 'scripts']) {
    for (const name of await readdir(join(REPO_ROOT, dir), { recursive: true })) files.push(join(dir, name));
  }
  for (const f of files.sort()) {
    const p = join(REPO_ROOT, f);
    if ((await stat(p)).isFile()) h.update(`${f}\n`).update(await readFile(p));
  }
  return h.digest('hex').slice(0, 16);
}

/** The path of a single executable built from this checkout's sources. */
export async function seaExecutable(): Promise<string> {
  const dir = join(REPO_ROOT, 'tmp', 'sea');
  const file = join(dir, `pinget-${await sourceKey()}`);
  if (await stat(file).catch(() => undefined)) return file;
  await mkdir(dir, { recursive: true });
  for (const old of await readdir(dir)) if (/^pinget-[0-9a-f]{16}$/.test(old)) await rm(join(dir, old), { force: true });
  const res = await run(process.execPath, [join(REPO_ROOT, 'scripts/sea.mjs'), file], { cwd: REPO_ROOT });
  if (res.code !== 0) throw new Error(`scripts/sea.mjs exited ${res.code}:\n${res.stderr.slice(-3000)}`);
  return file;
}
