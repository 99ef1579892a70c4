/**
 * Reading a root's pacman state: pacman.conf (with its Include files mapped into the root), the local
 * database, the sync databases and the package cache directory. Thin I/O over the pure parsers.
 */
import { readFileSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PingetError } from '../../src/errors.js';
import { resolveInRoot } from '../../src/root-path.js';
import { decodeDatabase } from '../../src/text-decode.js';
import { descValue, packageOf, parseDesc, strayLine, type PacmanPackage } from './desc.js';
import { parsePacmanConf, type PacmanConf } from './pacman-conf.js';
import { parseSyncDb } from './sync-db.js';

export interface PacmanRoot {
  root: string;
  conf: PacmanConf;
  /** Absolute paths on this machine (inside root). */
  dbPath: string;
  cacheDirs: string[];
  gpgDir: string;
  /** pacman.conf's Architecture, or undefined for `auto`/unset. */
  arch?: string;
}

/** A path of pacman.conf inside the root, symlinks followed inside it. */
function inRoot(root: string, p: string): string {
  return resolveInRoot(root, p);
}

function readTextOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Loads <root>/etc/pacman.conf; a root without one gets pacman's compiled-in defaults and no repos. */
export function loadPacmanRoot(root: string): PacmanRoot {
  const text = readTextOrUndefined(inRoot(root, 'etc/pacman.conf')) ?? '';
  const conf = parsePacmanConf(text, (p) => readTextOrUndefined(inRoot(root, p)));
  const opt = (k: string) => conf.options[k];
  const archOpt = opt('Architecture')?.find((a) => a !== 'auto');
  return {
    root,
    conf,
    dbPath: inRoot(root, opt('DBPath')?.[0] ?? '/var/lib/pacman/'),
    cacheDirs: (opt('CacheDir')?.length ? opt('CacheDir')! : ['/var/cache/pacman/pkg/']).map((d) => inRoot(root, d)),
    gpgDir: inRoot(root, opt('GPGDir')?.[0] ?? '/etc/pacman.d/gnupg/'),
    arch: archOpt,
  };
}

/**
 * Installed packages from <dbpath>/local/<name>-<version>/desc. BAD_INPUT when the database is missing, unless
 * missingOk (a fresh root), and when it is not whole: every entry but ALPM_DB_VERSION must be a package
 * directory whose desc is UTF-8, ends with a newline, has no line outside a %KEY% block, and names the
 * package of its directory with an architecture (so one directory's package is never silently skipped).
 */
export async function readLocalDb(pr: PacmanRoot, opts: { missingOk?: boolean } = {}): Promise<PacmanPackage[]> {
  const dir = join(pr.dbPath, 'local');
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if (opts.missingOk && (e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new PingetError('BAD_INPUT', `${dir}: no pacman local database (is this an Arch Linux root? pass --root DIR)`, { cause: e });
  }
  const out: PacmanPackage[] = [];
  for (const n of names.sort()) {
    if (n === 'ALPM_DB_VERSION') continue;
    const file = join(dir, n, 'desc');
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (e) {
      throw new PingetError('BAD_INPUT', `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? e}); every entry of pacman's local database is a package directory with a desc file`, { cause: e });
    }
    const text = decodeDatabase(bytes, file);
    const fail = (line: number, what: string) => new PingetError('BAD_INPUT', `${file}:${line}: ${what}`);
    if (!text.endsWith('\n')) throw fail(text.split('\n').length, 'the file ends inside a line (truncated?)');
    const stray = strayLine(text);
    if (stray) throw fail(stray, 'a value outside a %KEY% block (a damaged file?)');
    const pkg = packageOf(parseDesc(text));
    if (!pkg || !descValue(parseDesc(text), 'ARCH')) throw fail(1, `no ${!pkg ? '%NAME% or %VERSION%' : '%ARCH%'} (a truncated file?)`);
    if (`${pkg.name}-${pkg.version}` !== n) throw fail(1, `names ${pkg.name}-${pkg.version}, not the package of its directory ${n} (a damaged file?)`);
    out.push(pkg);
  }
  return out;
}

export interface SyncRepo {
  name: string;
  file: string;
  packages: PacmanPackage[];
  /** Bytes of the database, for its detached signature. */
  data: Buffer;
  /** `<repo>.db.sig` beside it, when present. */
  sig?: Buffer;
}

/** The sync databases, in pacman.conf order (or sorted by name when the root has no repos configured). */
export async function readSyncDbs(pr: PacmanRoot): Promise<SyncRepo[]> {
  const dir = join(pr.dbPath, 'sync');
  let names = pr.conf.repos.map((r) => r.name);
  if (names.length === 0) {
    names = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.db')).map((f) => f.slice(0, -3)).sort();
  }
  const out: SyncRepo[] = [];
  for (const name of names) {
    const file = join(dir, `${name}.db`);
    const data = await readFile(file).catch(() => undefined);
    if (!data) continue;
    const sig = await readFile(`${file}.sig`).catch(() => undefined);
    out.push({ name, file, data, sig, packages: await parseSyncDb(data, file) });
  }
  return out;
}

/** Package files (and their .sig) in the cache directories: file name -> absolute path. */
export async function listCache(pr: PacmanRoot): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const dir of pr.cacheDirs) {
    for (const f of (await readdir(dir).catch(() => [] as string[])).sort()) {
      if (out.has(f)) continue;
      const st = await stat(join(dir, f)).catch(() => undefined);
      if (st?.isFile()) out.set(f, join(dir, f));
    }
  }
  return out;
}
