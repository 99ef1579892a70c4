/**
 * Files are replaced whole or not at all: a temp file beside the target, then rename(2).
 * Crash-only: every temp file's name carries the id of the process writing it
 * (`<hex>.pinget-tmp-<pid>-<rand>`), so a later run can tell a dead process's leftover (removed)
 * from a live process's download in progress (left alone).
 */
import { readdir, rename, rm, open } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

const TEMP_NAME = /\.pinget-tmp-(\d+)-[0-9a-f]+$/;
/** Names earlier versions wrote, without a pid we can trust: `<sha256>.<pid>.<rand>` in the cache, `<file>.pinget-tmp-<rand>` in -o. */
const OLD_TEMP = /^(?:[0-9a-f]{64}|unpinned)\.\d+\.[0-9a-f]+$|\.pinget-tmp-[0-9a-f]+$/;

/** Random bytes for temp names, drawn a few KiB at a time (one call per name costs more than the name). */
let pool = Buffer.alloc(0);
let used = 0;

export function tempName(stem: string): string {
  if (used + 6 > pool.length) {
    pool = randomBytes(6 * 512);
    used = 0;
  }
  used += 6;
  return `${stem}.pinget-tmp-${process.pid}-${pool.toString('hex', used - 6, used)}`;
}

/** The pid in a temp file's name, or undefined when the name is not one of ours. */
export function tempOwner(name: string): number | undefined {
  const m = TEMP_NAME.exec(name);
  const pid = m && Number(m[1]);
  return pid && Number.isSafeInteger(pid) ? pid : undefined;
}

/** The file a temp path is written for (`DIR/.NAME.pinget-tmp-<pid>-<rand>` -> `DIR/NAME`), for messages; other paths as they are. */
export function tempTarget(path: string): string {
  return path.replace(/\/\.?([^/]+)\.pinget-tmp-\d+-[0-9a-f]+$/, '/$1');
}

export function isTempName(name: string): boolean {
  return tempOwner(name) !== undefined || OLD_TEMP.test(name);
}

/** Whether a process with this id exists (EPERM: it does, as another user). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Removes the temp files in `dir` whose writer is gone, and those of older versions (no pid in the
 * name); a live process's temp files stay. Returns how many went. `dirs`: temp directories too
 * (the cache's tmp/, where a registry's blobs are staged).
 */
export async function sweepTempFiles(dir: string, opts: { dirs?: boolean } = {}): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (!isTempName(name)) continue;
    const pid = tempOwner(name);
    if (pid !== undefined && processAlive(pid)) continue;
    await rm(join(dir, name), { force: true, recursive: !!opts.dirs });
    removed++;
  }
  return removed;
}

export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = join(dirname(file), tempName(`.${basename(file)}`));
  try {
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
