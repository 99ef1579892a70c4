/**
 * The installed packages of a root, read with the distro's own tool: `rpm --root R --dbpath D -qa`.
 * Debian's rpm defaults to ~/.rpmdb, so the database path is always passed explicitly. Fedora >= 36 keeps
 * it in /usr/lib/sysimage/rpm (with /var/lib/rpm a symlink to it), Fedora 33+ and RHEL 9 use sqlite,
 * RHEL 8 and older use Berkeley DB, which Debian's rpm reads through its read-only `bdb_ro` backend.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PingetError } from '../../src/errors.js';
import { runChecked } from '../../src/exec.js';
import type { Nevra } from './nevra.js';

export interface RpmDbLocation {
  /** Path inside the root, e.g. `/var/lib/rpm`. */
  dbpath: string;
  backend: 'sqlite' | 'bdb_ro';
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
    if (await isFile(join(root, c.dir, c.file))) return { dbpath: c.dir, backend: c.backend };
  }
  if (await isFile(join(root, 'var/lib/rpm/Packages.db'))) {
    throw new PingetError('BAD_INPUT', `${join(root, 'var/lib/rpm/Packages.db')}: the ndb rpm database (SUSE) is not supported; only sqlite and bdb`);
  }
  return undefined;
}

/** Arguments selecting the root's database, for rpm and rpmkeys. */
export function rpmDbArgs(root: string, db: RpmDbLocation): string[] {
  const args = ['--root', root, '--dbpath', db.dbpath];
  if (db.backend !== 'sqlite') args.push('--define', `_db_backend ${db.backend}`);
  return args;
}

const QUERY_FORMAT = '%{NAME}\\t%{EPOCHNUM}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{SOURCERPM}\\n';

/** Parses the output of QUERY_FORMAT; gpg-pubkey entries (imported keys) are not packages and are dropped. */
export function parseRpmQuery(text: string): InstalledRpm[] {
  const out: InstalledRpm[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const f = line.split('\t');
    if (f.length !== 6) throw new PingetError('INTERNAL', `unexpected rpm -qa output line: ${JSON.stringify(line)}`);
    const [name, epochNum, version, release, arch, sourceRpm] = f;
    if (name === 'gpg-pubkey') continue;
    out.push({ name, epoch: epochNum === '0' ? '' : epochNum, version, release, arch, sourceRpm: sourceRpm === '(none)' ? '' : sourceRpm });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.arch < b.arch ? -1 : a.arch > b.arch ? 1 : 0));
}

export async function queryInstalled(root: string): Promise<InstalledRpm[]> {
  const db = await findRpmDb(root);
  if (!db) {
    throw new PingetError(
      'BAD_INPUT',
      `${root.replace(/\/$/, '')}: no rpm database (looked for ${CANDIDATES.map((c) => `${c.dir}/${c.file}`).join(', ')}); is this an rpm-based root?`,
    );
  }
  const res = await runChecked('rpm', [...rpmDbArgs(root, db), '-qa', '--queryformat', QUERY_FORMAT], 'BAD_INPUT', { missingHint: MISSING_RPM_HINT });
  return parseRpmQuery(res.stdout);
}
