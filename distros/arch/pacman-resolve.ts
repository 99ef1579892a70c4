/**
 * `lock`: pacman decides. The host's pacman runs `-S --print --needed` in a scratch world: its own pacman.conf
 * (the base's repositories, the architecture asked for, nothing of the host's /etc/pacman.conf), a scratch
 * --dbpath whose `local/` is a copy of the base's installed-package records and whose `sync/` holds the
 * databases pinget verified, and scratch root, cache, keyring, log and hook directories. `--print` never
 * downloads, installs or locks (libalpm's NOLOCK transaction); the base is only read.
 * pacman 6.0's --print-format knows %n %v %l %r %s (no file name, no hash): those come from the sync database.
 */
import { copyFile, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PingetError } from '../../src/errors.js';
import { run } from '../../src/exec.js';

export interface PacmanRun {
  scratch: string;
  arch: string;
  /** The base's `<dbpath>/local`, or undefined for a base with nothing installed. */
  localDb?: string;
  /** Repositories in pacman.conf order with their verified database bytes. */
  repos: { name: string; server: string; data: Buffer }[];
  names: string[];
  signal?: AbortSignal;
}

/** One package pacman would install: its repository, name and version. */
export interface Chosen {
  repo: string;
  name: string;
  version: string;
}

/** libalpm's local database version (pacman >= 5.2; what pacman writes into an empty local database). */
const ALPM_LOCAL_DB_VERSION = 9;

export const PACMAN_HINT = 'install pacman (Debian: pacman-package-manager)';

/**
 * The base's local database as pacman reads it: a scratch `local/` of links to each installed package's record
 * directory, never the base's own directory (libalpm writes ALPM_DB_VERSION into an empty local database it
 * opens); --print reads the records (desc, files) and writes none.
 */
async function linkLocal(from: string | undefined, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  // An empty base: written here, because the two pacman runs that open this database at once would otherwise
  // both create it, and one could read the other's half-written file ("failed to initialize alpm library").
  if (!from) return writeFile(join(to, 'ALPM_DB_VERSION'), `${ALPM_LOCAL_DB_VERSION}\n`);
  const names = await readdir(from, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [];
    throw e;
  });
  await Promise.all(
    names.map(async (d) => {
      if (d.isFile() && d.name === 'ALPM_DB_VERSION') return copyFile(join(from, d.name), join(to, d.name));
      if (d.isDirectory()) return symlink(join(from, d.name), join(to, d.name));
    }),
  );
}

/** The scratch world; returns pacman's options for it: for `--print`, and for the prepare-only transaction. */
async function writeWorld(o: PacmanRun): Promise<{ print: string[]; prepare: string[] }> {
  const dir = o.scratch;
  for (const d of ['db/sync', 'cache', 'root', 'gnupg', 'hooks']) await mkdir(join(dir, d), { recursive: true });
  await linkLocal(o.localDb, join(dir, 'db/local'));
  for (const r of o.repos) await writeFile(join(dir, 'db/sync', `${r.name}.db`), r.data);
  // Signatures were checked by pinget (lock-dbs.ts); neither run reads a package file, so pacman checks nothing.
  const conf = ['[options]', `Architecture = ${o.arch}`, 'SigLevel = Never'];
  const repos = (server: (r: PacmanRun['repos'][number]) => string) => ['', ...o.repos.flatMap((r) => [`[${r.name}]`, `Server = ${server(r)}`, ''])];
  await writeFile(join(dir, 'print.conf'), [...conf, ...repos((r) => r.server)].join('\n'));
  // The prepare-only transaction must never download: its server is a directory of the scratch that does not
  // exist, so the download fails at once, before libalpm writes anything (an XferCommand that fails costs a
  // 2 s sleep in pacman).
  await writeFile(join(dir, 'prepare.conf'), [...conf, 'VerbosePkgLists', ...repos(() => `file://${join(dir, 'no-packages')}`)].join('\n'));
  const common = [
    '--root', join(dir, 'root'),
    '--dbpath', join(dir, 'db'),
    '--cachedir', join(dir, 'cache'),
    '--gpgdir', join(dir, 'gnupg'),
    '--logfile', join(dir, 'pacman.log'),
    '--hookdir', join(dir, 'hooks'),
    '--arch', o.arch,
    '--noconfirm',
    '--noprogressbar',
  ];
  return { print: ['--config', join(dir, 'print.conf'), ...common], prepare: ['--config', join(dir, 'prepare.conf'), ...common] };
}

/** pacman's reason in one line: the targets no repository has, else its error and the first unmet dependency. */
export function pacmanFailure(stdout: string, stderr: string, repos: string[]): PingetError {
  // pacman prints its `error:` lines on stderr and the `::` lines that explain them on stdout.
  const lines = `${stderr}\n${stdout}`.split('\n').map((l) => l.trim()).filter(Boolean);
  const missing = lines.map((l) => /^error: target not found: (.+)$/.exec(l)?.[1]).filter((n): n is string => !!n);
  if (missing.length) {
    return new PingetError('BAD_INPUT', `no package ${missing.join(', ')} in the base's repositories (${repos.map((r) => `[${r}]`).join(' ')})`);
  }
  // An `error:` line that ends in a colon has its reason on the next line (libalpm's "(could not ...)").
  const errors = lines.flatMap((l, i) => (l.startsWith('error: ') ? [l.endsWith(':') && lines[i + 1] && !lines[i + 1].startsWith('error: ') ? `${l.slice(7)} ${lines[i + 1]}` : l.slice(7)] : []));
  const why = lines.filter((l) => l.startsWith(':: ') && !/\[[yY]\/[nN]\]$/.test(l)).map((l) => l.slice(3));
  const first = errors[0] ?? lines.pop() ?? 'pacman failed';
  return new PingetError('BAD_INPUT', `pacman cannot install the request: ${first}${why.length ? `: ${why.slice(0, 3).join('; ')}` : ''}`, { details: why.slice(3, 20) });
}

const LINE = /^(\S+) (\S+) (\S+)$/;

export function parsePrint(stdout: string): Chosen[] {
  const out: Chosen[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    const m = LINE.exec(line.trim());
    if (!m) throw new PingetError('INTERNAL', `pacman --print printed a line pinget does not understand: ${line.slice(0, 200)}`);
    out.push({ repo: m[1], name: m[2], version: m[3] });
  }
  return out;
}

/**
 * pacman's real transaction, as root: `--print` skips the conflict checks (pacman 6.0 answers them for it), so the
 * request goes through a real `-S` whose preparation (dependencies, conflicts with the base and between the
 * targets, --noconfirm declining to remove anything) pacman runs in full; its download then fails by design,
 * before libalpm writes anything. Its package table (VerbosePkgLists: `repo/name  [old]  new  sizes`) is the
 * answer, so the dependencies are resolved once. Undefined when not root (pacman runs a real transaction only as root).
 */
async function prepare(o: PacmanRun, args: string[], env: NodeJS.ProcessEnv): Promise<{ ok: true; chosen: Chosen[] } | { ok: false; stdout: string; stderr: string } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const res = await run('pacman', ['-S', '--needed', ...args, '--', ...o.names], { env, signal: o.signal, missingHint: PACMAN_HINT });
  if (res.code === 0 || /failed to commit transaction|failed to retrieve some files|failed retrieving file/.test(res.stderr)) return { ok: true, chosen: parseTable(res.stdout, res.code === 0) };
  return { ok: false, stdout: res.stdout, stderr: res.stderr };
}

/** A version as pacman prints it (`[epoch:]pkgver-pkgrel`), not a size (`-0.02`). */
const VERSION = /^[^-\s]+-[^-\s]+$/;

/** The packages of pacman's VerbosePkgLists table; none when pacman had nothing to do (exit 0 without a table). */
export function parseTable(stdout: string, nothingOk: boolean): Chosen[] {
  const lines = stdout.split('\n');
  const head = lines.findIndex((l) => /^Packages? \(\d+\)/.test(l));
  if (head < 0) {
    if (nothingOk) return [];
    throw new PingetError('INTERNAL', `pacman -S printed no package table: ${stdout.trim().split('\n').slice(-3).join(' | ').slice(0, 300)}`);
  }
  const count = Number(/\((\d+)\)/.exec(lines[head])![1]);
  const out: Chosen[] = [];
  for (const line of lines.slice(head + 1)) {
    if (!line.trim()) {
      if (out.length) break;
      continue;
    }
    const [target, ...rest] = line.trim().split(/\s+/);
    const slash = target.indexOf('/');
    const versions = rest.filter((t) => VERSION.test(t) && !/^-?[\d.]+$/.test(t));
    if (slash <= 0 || versions.length === 0) throw new PingetError('INTERNAL', `pacman -S printed a package line pinget does not understand: ${line.slice(0, 200)}`);
    out.push({ repo: target.slice(0, slash), name: target.slice(slash + 1), version: versions[versions.length - 1] });
  }
  if (out.length !== count) throw new PingetError('INTERNAL', `pacman -S announced ${count} packages and listed ${out.length}`);
  return out;
}

/**
 * What `pacman -S --needed NAMES` would install on the base (`chosen`), and which packages the names themselves
 * stand for (`direct`: a provision or a group resolved to packages, dependencies left out), which pacman
 * marks as explicitly installed. `checked`: false when pacman's conflict checks could not run (not root).
 */
export async function pacmanChoose(o: PacmanRun): Promise<{ chosen: Chosen[]; direct: Chosen[]; checked: boolean }> {
  const world = await writeWorld(o);
  // COLUMNS would make pacman fall back from its package table to a wrapped list when the table is wider.
  const { COLUMNS: _columns, ...inherited } = process.env;
  const env = { ...inherited, LC_ALL: 'C', LANG: 'C' };
  const ask = (extra: string[]) => run('pacman', ['-S', '--print', '--print-format', '%r %n %v', ...world.print, ...extra, '--', ...o.names], { env, signal: o.signal, missingHint: PACMAN_HINT });
  // --print takes no lock (libalpm's NOLOCK transaction), and the transaction locks only the scratch dbpath.
  // As root the real transaction's table is the answer; --print --needed (the same resolution) only otherwise.
  const root = process.getuid?.() === 0;
  const [all, direct, full] = await Promise.all([root ? undefined : ask(['--needed']), ask(['--nodeps', '--nodeps']), prepare(o, world.prepare, env)]);
  const repos = o.repos.map((r) => r.name);
  if (all && all.code !== 0) throw pacmanFailure(all.stdout, all.stderr, repos);
  if (direct.code !== 0) throw pacmanFailure(direct.stdout, direct.stderr, repos);
  if (full && !full.ok) throw pacmanFailure(full.stdout, full.stderr, repos);
  const chosen = full?.ok ? full.chosen : parsePrint(all!.stdout);
  return { chosen, direct: parsePrint(direct.stdout), checked: full !== undefined };
}
