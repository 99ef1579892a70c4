/**
 * `lock`: apt decides. The host's apt-get runs against a scratch configuration (the base's dpkg status, the lists
 * pinget verified, the requested architecture), with `install --print-uris` and `Acquire::ForceHash=SHA256`,
 * which prints for each package apt would fetch: `'URI' archive-name size SHA256:hex` (apt-get(8)). apt reads
 * APT_CONFIG before anything under /etc/apt, so every Dir:: path is set there; it runs without root
 * (Debug::NoLocking) and never fetches: it only reads. Of the base's own apt configuration only its pinning
 * (preferences) and the settings that change what is chosen (Install-Recommends, Install-Suggests,
 * Default-Release, read with apt-config) are taken: a base is untrusted input.
 */
import { lstat, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PingetError } from '../../src/errors.js';
import { run } from '../../src/exec.js';
import { resolveInRoot } from '../../src/root-path.js';
import { writeFileAtomic } from '../../src/fs-atomic.js';
import { sha256Bytes } from '../../src/verify/sha256.js';
import { unsafePathReason, type LockEntry } from '../../src/lockfile.js';
import type { PackageRef } from '../../src/distro/types.js';
import type { LockSource } from './lock-sources.js';

export interface AptRun {
  /** apt's state and configuration go here. */
  scratch: string;
  /**
   * Kept between runs for the same lists: `lists/` (laid out as apt names them), apt's own caches, and the status
   * files it was given (each named by its content, so never rewritten).
   */
  stateDir: string;
  arch: string;
  sources: LockSource[];
  /** The base's root, or undefined for an empty system. */
  baseRoot?: string;
  /** The base's native architecture, when it differs from `arch` (its status is read as `arch`'s). */
  baseArch?: string;
  /** What to request: names as the user wrote them, and apt patterns. */
  request: string[];
  recommends?: boolean;
  targetRelease?: string;
  /** Dated indexes may carry a Valid-Until long past. */
  ignoreValidUntil: boolean;
  signal?: AbortSignal;
}

export interface AptChoice {
  entries: LockEntry[];
  packages: PackageRef[];
}

const APT_HINT = "install the apt package (lock asks the host's apt to resolve)";

const CHOOSING_SETTINGS = ['APT::Install-Recommends', 'APT::Install-Suggests', 'APT::Default-Release'];

const quote = (v: string) => `"${v.replace(/["\\]/g, '')}"`;

const CONFIG_MAX = 1 << 20;

/**
 * Copies the base's apt configuration files (`etc/apt/<name>` and `etc/apt/<name>.d/*`) into dir/base/, each path
 * resolved inside the root (an absolute link is the root's, not the host's) and only regular files, so apt never
 * follows a base's link out of it.
 */
async function copyBaseConfig(root: string, dir: string, name: string): Promise<{ file: string; parts: string }> {
  const out = join(dir, 'base', name);
  await mkdir(`${out}.d`, { recursive: true });
  const copy = async (rel: string, dest: string) => {
    const src = resolveInRoot(root, rel);
    const st = await lstat(src).catch(() => undefined);
    if (st?.isFile() && st.size <= CONFIG_MAX) await writeFile(dest, await readFile(src));
  };
  await copy(`etc/apt/${name}`, out);
  const partsDir = resolveInRoot(root, `etc/apt/${name}.d`);
  for (const n of await readdir(partsDir).catch(() => [] as string[])) if (/^[A-Za-z0-9_.-]+$/.test(n)) await copy(`etc/apt/${name}.d/${n}`, join(`${out}.d`, n));
  return { file: out, parts: `${out}.d/` };
}

/** The base's settings that change what apt chooses, read by apt-config from its apt.conf and apt.conf.d. */
async function baseSettings(root: string, dir: string, signal?: AbortSignal): Promise<string[]> {
  const conf = join(dir, 'base-apt.conf');
  const { file, parts } = await copyBaseConfig(root, dir, 'apt.conf');
  await writeFile(conf, `Dir::Etc::main ${quote(file)};\nDir::Etc::parts ${quote(parts)};\n`);
  const res = await run('apt-config', ['dump'], { env: { ...process.env, APT_CONFIG: conf }, signal, missingHint: APT_HINT });
  if (res.code !== 0) throw new PingetError('BAD_INPUT', `${root}/etc/apt: apt-config cannot read the base's apt configuration: ${res.stderr.trim().split('\n')[0]}`);
  const out: string[] = [];
  for (const line of res.stdout.split('\n')) {
    const m = /^(\S+) "(.*)";$/.exec(line);
    if (m && CHOOSING_SETTINGS.includes(m[1])) out.push(`${m[1]}=${m[2]}`);
  }
  return out;
}

/** The base's dpkg status, its native architecture renamed to the one resolved for (a base of another arch). */
async function writeStatus(o: AptRun): Promise<string> {
  let text = o.baseRoot ? await readFile(resolveInRoot(o.baseRoot, 'var/lib/dpkg/status'), 'utf8') : '';
  if (o.baseArch && o.baseArch !== o.arch) text = text.replace(new RegExp(`^Architecture: ${o.baseArch}$`, 'gm'), `Architecture: ${o.arch}`);
  const file = join(o.stateDir, `status-${sha256Bytes(text).slice(0, 32)}`);
  if (!(await stat(file).catch(() => undefined))) await writeFileAtomic(file, text);
  return file;
}

function aptOptions(o: AptRun, dir: string, status: string, prefs?: { file: string; parts: string }): string[] {
  const set: Record<string, string> = {
    'Dir::State': `${dir}/state/`,
    'Dir::State::lists': `${o.stateDir}/lists/`,
    'Dir::State::status': status,
    'Dir::State::extended_states': `${dir}/state/extended_states`,
    'Dir::Cache': `${dir}/cache/`,
    'Dir::Cache::archives': `${dir}/cache/archives/`,
    'Dir::Cache::pkgcache': `${o.stateDir}/pkgcache.bin`,
    'Dir::Cache::srcpkgcache': `${o.stateDir}/srcpkgcache.bin`,
    'Dir::Etc::sourcelist': `${o.stateDir}/sources.list`,
    'Dir::Etc::sourceparts': `${dir}/empty/`,
    'Dir::Etc::trusted': `${dir}/empty/trusted.gpg`,
    'Dir::Etc::trustedparts': `${dir}/empty/`,
    'Dir::Etc::preferences': prefs?.file ?? `${dir}/empty/preferences`,
    'Dir::Etc::preferencesparts': prefs?.parts ?? `${dir}/empty/`,
    'Dir::Log': `${dir}/log/`,
    'Dir::Bin::dpkg': '/bin/false',
    'APT::Architecture': o.arch,
    'APT::Architectures': o.arch,
    'Debug::NoLocking': 'true',
    'Acquire::ForceHash': 'SHA256',
    'Acquire::Languages': 'none',
    'Acquire::Check-Valid-Until': o.ignoreValidUntil ? 'false' : 'true',
    'APT::Get::Show-Versions': 'false',
  };
  if (o.recommends === false) set['APT::Install-Recommends'] = 'false';
  if (o.targetRelease) set['APT::Default-Release'] = o.targetRelease;
  return Object.entries(set).flatMap(([k, v]) => ['-o', `${k}=${v}`]);
}

/** The base's settings first: the user's flags, written after, win. */
function commandLine(o: AptRun, dir: string, status: string, base: string[], prefs: { file: string; parts: string } | undefined, quiet = '-qq'): string[] {
  return ['install', '--print-uris', quiet, '-y', ...base.flatMap((s) => ['-o', s]), ...aptOptions(o, dir, status, prefs), '--', ...o.request];
}

/** apt's reason, in one line naming the package: its `E:` line and the first unmet dependency it lists. */
export function aptFailure(stdout: string, stderr: string): PingetError {
  const errors = stderr.split('\n').filter((l) => l.startsWith('E: ')).map((l) => l.slice(3).trim());
  const unmet = stdout.split('\n').map((l) => l.trim()).filter((l) => /^\S+ : (Pre)?Depends|^\S+ : Conflicts|^\S+ : Breaks|^\S+ : Recommends/.test(l) || /^(Pre)?Depends: |^Conflicts: |^Breaks: /.test(l));
  const first = errors[0] ?? (stderr.trim().split('\n').pop() || 'apt-get failed');
  const detail = unmet.length ? `: ${unmet.slice(0, 3).join('; ')}` : '';
  return new PingetError('BAD_INPUT', `apt cannot install the request: ${first}${detail}`, { details: [...errors.slice(1), ...unmet.slice(3)].slice(0, 20) });
}

const PRINT_URI = /^'([^']+)' (\S+) (\d+) SHA256:([0-9a-f]{64})$/;

/** `name_version_arch.deb`, the version's epoch colon written %3a. */
function refFromArchiveName(file: string): PackageRef | undefined {
  const m = /^([^_]+)_([^_]+)_([^_]+)\.deb$/.exec(file);
  return m ? { name: m[1], version: decodeURIComponent(m[2]), arch: m[3] } : undefined;
}

/** `--print-uris` output -> lockfile entries, each URI cut at its source's base URI. */
export function parsePrintUris(stdout: string, sources: LockSource[]): AptChoice {
  const bases = [...new Set(sources.map((s) => `${s.uri}/`))].sort((a, b) => b.length - a.length);
  const entries: LockEntry[] = [];
  const packages: PackageRef[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    const m = PRINT_URI.exec(line.trim());
    if (!m) throw new PingetError('INTERNAL', `apt-get --print-uris printed a line pinget does not understand: ${line.slice(0, 200)}`);
    const [, uri, file, , sha256] = m;
    const base = bases.find((b) => uri.startsWith(b));
    if (!base) throw new PingetError('INTERNAL', `apt-get printed ${uri}, under none of the sources`);
    const path = decodeURIComponent(uri.slice(base.length));
    const unsafe = unsafePathReason(path);
    if (unsafe) throw new PingetError('INTEGRITY', `the index names ${JSON.stringify(path.slice(0, 200))} for ${file}: ${unsafe}`);
    const ref = refFromArchiveName(file);
    if (!ref) throw new PingetError('INTEGRITY', `the index names a file apt calls ${file}, which is not name_version_arch.deb`);
    entries.push({ sha256, path });
    packages.push(ref);
  }
  return { entries, packages };
}

/** Runs apt-get with its configuration in `o.scratch` over the lists and caches of `o.stateDir`, and reads its choice. */
export async function aptChoose(o: AptRun): Promise<AptChoice> {
  const dir = o.scratch;
  for (const d of ['state', 'cache/archives/partial', 'log', 'empty']) await mkdir(join(dir, d), { recursive: true });
  const status = await writeStatus(o);
  // Beside the lists, rewritten only when it changes: apt takes a new sources.list as a reason to rebuild its caches.
  const lines = o.sources.map((s) => `deb [arch=${o.arch}] ${s.uri} ${s.suite} ${s.components.join(' ')}`).join('\n') + '\n';
  const sourceList = join(o.stateDir, 'sources.list');
  if ((await readFile(sourceList, 'utf8').catch(() => undefined)) !== lines) await writeFileAtomic(sourceList, lines);
  await writeFile(join(dir, 'apt.conf'), `Dir::Etc::main "/dev/null";\nDir::Etc::parts ${quote(`${dir}/empty/`)};\n`);
  const base = o.baseRoot ? await baseSettings(o.baseRoot, dir, o.signal) : [];
  const prefs = o.baseRoot ? await copyBaseConfig(o.baseRoot, dir, 'preferences') : undefined;
  const env = { ...process.env, APT_CONFIG: join(dir, 'apt.conf'), LC_ALL: 'C.UTF-8' };
  const res = await run('apt-get', commandLine(o, dir, status, base, prefs), { env, signal: o.signal, missingHint: APT_HINT });
  if (res.code !== 0) {
    // apt explains an unsatisfiable request ("unmet dependencies") only when less quiet: ask it again for that.
    const why = await run('apt-get', commandLine(o, dir, status, base, prefs, '-q'), { env, signal: o.signal, missingHint: APT_HINT });
    throw aptFailure(why.stdout, res.stderr);
  }
  return parsePrintUris(res.stdout, o.sources);
}
