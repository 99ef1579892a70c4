/**
 * dnf's install reasons, asked of dnf itself (dnf 4: its history database var/lib/dnf/history.sqlite), for
 * the lockfile's `manual` header: `dnf repoquery --userinstalled` lists the packages installed by hand (reason
 * `user`, and `unknown` for what dnf did not install); install sets them back with `dnf mark install` and
 * `dnf mark remove` (reason `dependency`), so `dnf autoremove` in a pinget-built root removes what it removes in
 * the dnf-built one. Reasons other than user/dependency (group, weak-dependency) come back as dependency.
 *
 * dnf runs hermetically: an empty config file and repo dir, no plugins, no repos, and a scratch HOME whose
 * .rpmmacros names the root's rpm database (Debian's rpm would look in ~/.rpmdb). dnf writes its logs, cache
 * and history under --installroot, so generate gives it a scratch root holding a link to the rpm database and
 * a copy of the history instead of the user's root.
 *
 * dnf5 (Fedora 41+ installs it as `dnf`) keeps reasons elsewhere (usr/lib/sysimage/libdnf5) and has another
 * command line (`mark user|dependency`); it is not driven yet: with it, as without dnf, pinget warns and skips.
 */
import { constants } from 'node:fs';
import { access, copyFile, mkdir, mkdtemp, readdir, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, delimiter, join, resolve } from 'node:path';
import { runChecked } from '../../src/exec.js';
import { resolveInRoot } from '../../src/root-path.js';
import { formatManual, parseManual } from '../../src/manual-marks.js';
import type { Logger } from '../../src/ui/log.js';
import type { PackageRef } from '../../src/distro/types.js';
import { findRpmDb, type RpmDbLocation } from './rpmdb.js';
import { isolatedDnfOptions } from './dnf-isolated.js';

export const HISTORY_DIR = 'var/lib/dnf';
const DNF5_STATE = 'usr/lib/sysimage/libdnf5';
const MISSING_DNF_HINT = 'install dnf 4 (Debian: apt-get install dnf)';

/** Which dnf is on PATH: 4 (the Python dnf), 5 (dnf5, also when installed as `dnf`), or none. */
async function dnfOnPath(): Promise<4 | 5 | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const file = join(dir, 'dnf');
    if (!(await access(file, constants.X_OK).then(() => true, () => false))) continue;
    return basename(await realpath(file).catch(() => file)).startsWith('dnf5') ? 5 : 4;
  }
  return undefined;
}

/** Why the marks cannot be read or set here, or undefined when dnf 4 is at hand. */
async function noDnfReason(needsRoot = false): Promise<string | undefined> {
  // dnf 4 refuses `mark` to anyone but root (its "demands.root_user"), even for an --installroot one owns
  if (needsRoot && process.geteuid?.() !== 0) return 'dnf marks packages only when run as root';
  const dnf = await dnfOnPath();
  if (dnf === 4) return undefined;
  return dnf === 5 ? `the dnf on PATH is dnf5, which pinget does not drive yet (${MISSING_DNF_HINT})` : `dnf is not installed (${MISSING_DNF_HINT})`;
}

type Dnf = (args: string[]) => Promise<string>;

/**
 * Runs `fn` with a dnf bound to an installroot (a path, or one made in the scratch dir), reading the rpm
 * database at `db` inside it.
 */
async function withDnf<T>(
  root: string | ((scratch: string) => Promise<string>),
  db: RpmDbLocation,
  fn: (dnf: Dnf) => Promise<T>,
  releasever = '0',
): Promise<T> {
  const scratch = await mkdtemp(join(tmpdir(), 'pinget-dnf-'));
  try {
    const installroot = typeof root === 'string' ? root : await root(scratch);
    const home = join(scratch, 'home');
    await mkdir(home);
    const macros = [`%_dbpath ${db.dbpath}`, ...(db.backend === 'sqlite' ? [] : [`%_db_backend ${db.backend}`])];
    await writeFile(join(home, '.rpmmacros'), `${macros.join('\n')}\n`);
    const common = [
      '-q',
      '-y',
      `--installroot=${installroot}`,
      ...(await isolatedDnfOptions(scratch, join(scratch, 'repos.d'))),
      '--disablerepo=*',
      // no repo is read: the release version is only recorded in the history (and silences a warning)
      `--releasever=${releasever}`,
    ];
    const env = { ...process.env, HOME: home, LC_ALL: 'C' };
    const dnf: Dnf = async (args) => (await runChecked('dnf', [...common, ...args], 'PACKAGE_MANAGER', { env, missingHint: MISSING_DNF_HINT })).stdout;
    return await fn(dnf);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

const userinstalled = async (dnf: Dnf): Promise<Set<string>> =>
  new Set((await dnf(['repoquery', '--userinstalled', '--qf', '%{name}'])).split('\n').map((l) => l.trim()).filter(Boolean));

/**
 * The `manual` header for these installed names: none when the root has no dnf history (nothing but rpm
 * installed it, so dnf knows no reasons), when dnf counts every one of them as user-installed, or (with a
 * warning) when no dnf 4 is at hand.
 */
export async function dnfManualHeader(root: string, names: string[], log: Logger): Promise<Record<string, string>> {
  const history = join(root, HISTORY_DIR);
  const files = (await readdir(history).catch(() => [] as string[])).filter((f) => f.startsWith('history.sqlite'));
  const db = await findRpmDb(root);
  if (!db || names.length === 0) return {};
  if (!files.includes('history.sqlite')) {
    const dnf5 = await readdir(join(root, DNF5_STATE)).then(() => true, () => false);
    if (dnf5) log.warn(`${root} was installed by dnf5 (${DNF5_STATE}), whose install reasons pinget does not read yet: the lockfile has no manual header`);
    return {};
  }
  const why = await noDnfReason();
  if (why) {
    log.warn(`${why}: the lockfile records no manual/dependency marks of ${root}`);
    return {};
  }
  const view = async (scratch: string) => {
    const dir = join(scratch, 'root');
    // a copy, not a link: dnf opening the database would leave sqlite's -shm/-wal in the root
    const dbDir = resolveInRoot(root, db.dbpath);
    await mkdir(join(dir, db.dbpath), { recursive: true });
    for (const f of await readdir(dbDir, { withFileTypes: true })) {
      if (f.isFile() && !f.name.endsWith('-shm') && !f.name.startsWith('.')) await copyFile(join(dbDir, f.name), join(dir, db.dbpath, f.name));
    }
    await mkdir(join(dir, HISTORY_DIR), { recursive: true });
    for (const f of files) await copyFile(join(history, f), join(dir, HISTORY_DIR, f));
    return dir;
  };
  const user = await withDnf(view, db, userinstalled);
  if (names.every((n) => user.has(n))) return {};
  return { manual: formatManual(names.filter((n) => user.has(n))) };
}

/** Sets dnf's reasons of `packages` in root from the lockfile's `manual` header; warns and skips without dnf. */
export async function applyDnfMarks(
  root: string,
  packages: PackageRef[],
  headers: Record<string, string>,
  releasever: string | undefined,
  log: Logger | undefined,
): Promise<void> {
  const manual = parseManual(headers);
  const db = await findRpmDb(root);
  if (!manual || packages.length === 0 || !db) return;
  const why = await noDnfReason(true);
  if (why) {
    log?.warn(`${why}: the manual/dependency marks of the lockfile were NOT set in ${root}`);
    return;
  }
  const names = [...new Set(packages.map((p) => p.name))].sort();
  await withDnf(resolve(root), db, async (dnf) => {
    const user = await userinstalled(dnf);
    const toUser = names.filter((n) => manual.has(n) && !user.has(n));
    const toDependency = names.filter((n) => !manual.has(n) && user.has(n));
    if (toUser.length) await dnf(['mark', 'install', ...toUser]);
    if (toDependency.length) await dnf(['mark', 'remove', ...toDependency]);
  }, releasever);
}
