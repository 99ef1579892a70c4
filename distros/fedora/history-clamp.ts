/**
 * For `install --normalize`, which must give identical trees: dnf's history records when each transaction ran
 * (trans.dt_begin/dt_end, wall-clock seconds) and keeps a write-ahead log with random salts beside the database.
 * The times are clamped to the epoch like mtimes, and the log folded into the database (journal_mode DELETE
 * removes the -wal and -shm files), so the manual marks install set survive normalizing. Python's sqlite3 does
 * it, as python3 is at hand wherever dnf 4 ran.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { PingetError } from '../../src/errors.js';
import { run } from '../../src/exec.js';
import type { Logger } from '../../src/ui/log.js';
import { HISTORY_DIR } from './manual-marks.js';

const CLAMP_HISTORY = [
  'import sqlite3, sys',
  'db = sqlite3.connect(sys.argv[1])',
  'epoch = int(sys.argv[2])',
  'db.execute("UPDATE trans SET dt_begin = MIN(dt_begin, ?), dt_end = MIN(dt_end, ?)", (epoch, epoch))',
  'db.commit()',
  'db.execute("PRAGMA journal_mode=DELETE")',
  'db.close()',
].join('\n');

/** Clamps dnf's history in root (see above); false when there is none or no python3 to do it (logged). */
export async function clampDnfHistory(root: string, epoch: number, log: Logger): Promise<boolean> {
  const db = join(root, HISTORY_DIR, 'history.sqlite');
  if (!(await access(db).then(() => true, () => false))) return false;
  const res = await run('python3', ['-c', CLAMP_HISTORY, db, String(epoch)]).catch((e: unknown) => {
    if (e instanceof PingetError && e.code === 'UNAVAILABLE') return undefined;
    throw e;
  });
  if (!res) {
    log.warn(`python3 is not installed: dnf's history in ${root} cannot be clamped, so --normalize removes it and the manual marks with it`);
    return false;
  }
  if (res.code !== 0) throw new PingetError('PACKAGE_MANAGER', `${db}: clamping dnf's history failed: ${res.stderr.trim().split('\n').slice(-3).join(' ')}`);
  return true;
}
