/** sqlite's own view of an rpmdb.sqlite (a private copy: opening it may write `-shm`): its integrity and its number of headers. */
import { PingetError } from '../../src/errors.js';

type SqliteModule = typeof import('node:sqlite');
let loaded: Promise<SqliteModule> | undefined;

/** node:sqlite, without the "experimental" warning Node 22 prints on loading it (pinget's stderr is for its own messages). */
function loadSqlite(): Promise<SqliteModule> {
  return (loaded ??= (async () => {
    const emit = process.emitWarning;
    process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
      if (String(typeof warning === 'string' ? warning : warning.message).includes('SQLite')) return;
      (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
    }) as typeof process.emitWarning;
    try {
      return await import('node:sqlite');
    } finally {
      process.emitWarning = emit;
    }
  })());
}

/** The number of rows of the Packages table; BAD_INPUT naming `shown` (the root's file) when sqlite finds the file damaged. */
export async function sqliteCheck(copy: string, shown: string): Promise<number> {
  const { DatabaseSync } = await loadSqlite();
  let db;
  try {
    db = new DatabaseSync(copy);
    const check = db.prepare('PRAGMA quick_check(1)').get() as Record<string, unknown> | undefined;
    const verdict = String(Object.values(check ?? {})[0]);
    if (verdict !== 'ok') throw new Error(verdict);
    const row = db.prepare('SELECT count(*) AS n FROM Packages').get() as { n: number };
    return Number(row.n);
  } catch (e) {
    throw new PingetError('BAD_INPUT', `${shown}: not a whole rpm sqlite database (sqlite: ${(e as Error).message.split('\n')[0].slice(0, 200)})`, { cause: e });
  } finally {
    db?.close();
  }
}
