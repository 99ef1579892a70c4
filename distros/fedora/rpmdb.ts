/**
 * The installed packages of a root, read with the distro's own tool: `rpm --dbpath D -qa`. Debian's rpm defaults
 * to ~/.rpmdb, so the database path is always passed explicitly. Fedora >= 36 keeps it in /usr/lib/sysimage/rpm
 * (with /var/lib/rpm a symlink to it), Fedora 33+, RHEL 9, Azure Linux and CBL-Mariner use sqlite, RHEL 8 and older
 * use Berkeley DB, which Debian's rpm reads through its read-only `bdb_ro` backend. SUSE's ndb is refused.
 *
 * Reading changes nothing in the root: sqlite opens even a read-only database with `-shm`/`-wal` files beside it,
 * so an sqlite database is copied to a temporary directory and read there. What rpm read is checked: an `error:`
 * line (rpm -qa prints them and exits 0 when it skips a damaged header), sqlite's own `quick_check`, and the
 * number of headers rpm listed against the number of rows of the Packages table.
 */
import { copyFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PingetError } from '../../src/errors.js';
import { run } from '../../src/exec.js';
import { resolveInRoot } from '../../src/root-path.js';
import type { Nevra } from './nevra.js';
import { sqliteCheck } from './sqlite-check.js';

export interface RpmDbLocation {
  /** Path inside the root, e.g. `/var/lib/rpm`. */
  dbpath: string;
  backend: 'sqlite' | 'bdb_ro';
  /** The database file on this machine (symlinks followed inside the root). */
  file: string;
}

export interface InstalledRpm extends Nevra {
  sourceRpm: string;
}

const CANDIDATES: { dir: string; file: string; backend: RpmDbLocation['backend'] }[] = [
  { dir: '/usr/lib/sysimage/rpm', file: 'rpmdb.sqlite', backend: 'sqlite' },
  { dir: '/var/lib/rpm', file: 'rpmdb.sqlite', backend: 'sqlite' },
  { dir: '/usr/lib/sysimage/rpm', file: 'Packages', backend: 'bdb_ro' },
  { dir: '/var/lib/rpm', file: 'Packages', backend: 'bdb_ro' },
];

export const MISSING_RPM_HINT = 'install it (Debian: apt-get install rpm)';

async function isFile(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isFile() ?? false;
}

/** Where the root's rpm database is; undefined when it has none. */
export async function findRpmDb(root: string): Promise<RpmDbLocation | undefined> {
  for (const c of CANDIDATES) {
    const file = resolveInRoot(root, `${c.dir}/${c.file}`);
    if (await isFile(file)) return { dbpath: c.dir, backend: c.backend, file };
  }
  for (const dir of ['/usr/lib/sysimage/rpm', '/var/lib/rpm']) {
    const file = resolveInRoot(root, `${dir}/Packages.db`);
    if (await isFile(file)) {
      throw new PingetError(
        'BAD_INPUT',
        `${file}: an ndb rpm database (SUSE's format), which pinget does not support (the rpm it runs reads sqlite and Berkeley DB only); SUSE roots cannot be pinned`,
      );
    }
  }
  return undefined;
}

/** Arguments selecting the root's database in place, for rpm commands that need the root (install, rpm -V). */
export function rpmDbArgs(root: string, db: RpmDbLocation): string[] {
  const args = ['--root', root, '--dbpath', db.dbpath];
  if (db.backend !== 'sqlite') args.push('--define', `_db_backend ${db.backend}`);
  return args;
}

/**
 * Runs `fn` with rpm arguments that read the root's database without writing to the root: an sqlite database is
 * copied (with its committed `-wal`) to a temporary directory first; bdb_ro never writes.
 */
export async function withReadOnlyRpmDb<T>(root: string, db: RpmDbLocation, fn: (args: string[], file: string) => Promise<T>): Promise<T> {
  if (db.backend !== 'sqlite') return fn(['--dbpath', resolveInRoot(root, db.dbpath), '--define', `_db_backend ${db.backend}`], db.file);
  const dir = await mkdtemp(join(tmpdir(), 'pinget-rpmdb-'));
  try {
    const copy = join(dir, 'rpmdb.sqlite');
    await copyFile(db.file, copy);
    await copyFile(`${db.file}-wal`, `${copy}-wal`).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    return await fn(['--dbpath', dir, '--define', '_db_backend sqlite'], copy);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Runs `fn` with rpm arguments for commands that need the root itself (rpm -V checks the root's files) but must
 * not write to it: `--root` is the root, the database an sqlite copy outside it. rpm joins --root and --dbpath as
 * strings, so the copy is named from the root through enough `..` to reach `/`.
 */
export async function withRootRpmDb<T>(root: string, db: RpmDbLocation, fn: (args: string[]) => Promise<T>): Promise<T> {
  if (db.backend !== 'sqlite') return fn(rpmDbArgs(root, db));
  return withReadOnlyRpmDb(root, db, (args) => {
    const up = '/..'.repeat(resolve(root).split('/').filter(Boolean).length);
    return fn(['--root', root, '--dbpath', `${up}${args[1]}`, ...args.slice(2)]);
  });
}

const QUERY_FORMAT = '%{NAME}\\t%{EPOCHNUM}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{SOURCERPM}\\n';

/** Parses the output of QUERY_FORMAT; gpg-pubkey entries (imported keys) are not packages and are dropped. */
export function parseRpmQuery(text: string, file = 'rpm -qa'): InstalledRpm[] {
  const out: InstalledRpm[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const f = line.split('\t');
    if (f.length !== 6 || !/^\d+$/.test(f[1])) throw new PingetError('BAD_INPUT', `${file}: rpm listed a header it could not read: ${JSON.stringify(line.slice(0, 120))}`);
    const [name, epochNum, version, release, arch, sourceRpm] = f;
    if (name === 'gpg-pubkey') continue;
    out.push({ name, epoch: epochNum === '0' ? '' : epochNum, version, release, arch, sourceRpm: sourceRpm === '(none)' ? '' : sourceRpm });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.arch < b.arch ? -1 : a.arch > b.arch ? 1 : 0));
}

/**
 * `rpm -qa --qf FORMAT` on the root's database, checked: BAD_INPUT naming the database file and rpm's first
 * complaint when rpm failed, printed an `error:` line, or listed fewer headers than the database holds.
 */
export async function queryRpmDb(root: string, format: `${string}\\n`): Promise<string> {
  const db = await findRpmDb(root);
  if (!db) {
    throw new PingetError(
      'BAD_INPUT',
      `${root.replace(/\/$/, '')}: no rpm database (looked for ${CANDIDATES.map((c) => `${c.dir}/${c.file}`).join(', ')}); is this an rpm-based root?`,
    );
  }
  return withReadOnlyRpmDb(root, db, async (args, copy) => {
    const rows = db.backend === 'sqlite' ? await sqliteCheck(copy, db.file) : undefined;
    const res = await run('rpm', [...args, '-qa', '--queryformat', format], { missingHint: MISSING_RPM_HINT, env: { ...process.env, LC_ALL: 'C' } });
    const errors = res.stderr.split('\n').filter((l) => /^error:/.test(l));
    if (res.code !== 0 || errors.length > 0) {
      const first = errors[0] ?? res.stderr.trim().split('\n')[0] ?? `exit ${res.code}`;
      throw new PingetError('BAD_INPUT', `${db.file}: rpm cannot read the whole database (a damaged or truncated file?): ${first.slice(0, 300)}`, {
        details: res.stderr.trim().split('\n').slice(0, 20),
      });
    }
    // the formats print one line per header (no field of those asked can hold a newline)
    const listed = res.stdout.split('\n').length - 1;
    if (rows !== undefined && listed !== rows) {
      throw new PingetError('BAD_INPUT', `${db.file}: rpm listed ${listed} packages but the database holds ${rows} (a damaged file?)`);
    }
    return res.stdout;
  });
}

export async function queryInstalled(root: string): Promise<InstalledRpm[]> {
  return parseRpmQuery(await queryRpmDb(root, QUERY_FORMAT), 'rpm -qa');
}
