/**
 * `lock`: apk decides. The host's apk (2.14 or 3.x, as `apk` on PATH) runs `add --simulate` in a scratch world:
 * a root holding copies of the base's installed database and world (apk opens a root's database, and apk 3
 * makes var/cache/apk in it, so never the base's own), the indexes pinget verified as local repositories, the
 * base's keys as pinget read them (`--keys-dir`), the architecture asked for (`--arch`), no network, no cache and
 * no configuration of the host's (apk 3 reads $APK_CONFIG, else /etc/apk/config: an empty file here).
 * --simulate writes nothing; it prints one `(i/n) <Verb> <name>[@tag] (<version>[ -> <version>])` line per change.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PingetError } from '../../src/errors.js';
import { run } from '../../src/exec.js';
import type { ApkKeys } from './signature.js';

export interface ApkRun {
  scratch: string;
  arch: string;
  /** The base's installed database and world files (undefined: none). */
  installed: string;
  world?: string;
  /** The base's own architecture, when it is not `arch`. */
  baseArch?: string;
  /** Repositories in etc/apk/repositories order with their verified index bytes. */
  repos: { tag?: string; data: Buffer; v3?: boolean }[];
  /** The keys the indexes were checked with; undefined: --allow-unsigned. */
  keys?: ApkKeys;
  names: string[];
  signal?: AbortSignal;
}

export type Verb = 'Installing' | 'Upgrading' | 'Downgrading' | 'Replacing' | 'Reinstalling' | 'Updating pinning' | 'Purging';

/** One change apk would make: the package (and repository tag) it would install, or the one it would remove. */
export interface Change {
  verb: Verb;
  name: string;
  tag?: string;
  version: string;
  /** The installed version it replaces. */
  old?: string;
}

export const APK_HINT = 'install apk-tools (Alpine: apk-tools; elsewhere build it from its sources, 2.14 or 3.x)';

const LINE = /^\(\s*\d+\/\d+\) (?:\[APK unavailable, skipped\] )?(Installing|Upgrading|Downgrading|Replacing|Reinstalling|Updating pinning|Purging) ([^\s@]+)(?:@(\S+))? \((\S+?)(?: -> (\S+))?\)$/;

/** The change lines of apk's output (other lines: progress, OK, warnings, are skipped). Pure. */
export function parseChanges(stdout: string): Change[] {
  const out: Change[] = [];
  for (const raw of stdout.split('\n')) {
    const m = LINE.exec(raw.trim());
    if (!m) continue;
    const [, verb, name, tag, first, second] = m;
    out.push({ verb: verb as Verb, name, tag, version: second ?? first, old: second === undefined ? undefined : first });
  }
  return out;
}

/** apk's reason in one line: the names no repository has, else its first error and the lines that explain it. */
export function apkFailure(stdout: string, stderr: string, repos: string[]): PingetError {
  const lines = `${stderr}\n${stdout}`.split('\n').map((l) => l.trimEnd()).filter((l) => l.trim());
  const missing = lines.map((l) => /^\s+(\S+) \(no such package\):$/.exec(l)?.[1]).filter((n): n is string => !!n);
  if (missing.length) return new PingetError('BAD_INPUT', `no package ${missing.join(', ')} in the base's repositories (${repos.join(' ')})`);
  const error = lines.find((l) => l.startsWith('ERROR: '))?.slice(7) ?? lines.at(-1) ?? 'apk failed';
  const why = lines.filter((l) => /^\s/.test(l)).map((l) => l.trim());
  return new PingetError('BAD_INPUT', `apk cannot install the request: ${error}${why.length ? ` ${why.slice(0, 4).join('; ')}` : ''}`, { details: why.slice(4, 24) });
}

async function writeScratch(o: ApkRun): Promise<string[]> {
  const dir = o.scratch;
  await mkdir(join(dir, 'root/lib/apk/db'), { recursive: true });
  await mkdir(join(dir, 'root/etc/apk'), { recursive: true });
  await mkdir(join(dir, 'keys'), { recursive: true });
  if (o.baseArch && o.baseArch !== o.arch) {
    // The base as if built for `arch`: its packages of the base's arch recorded as packages of `arch`. apk 3
    // refuses installed packages of another arch, and a noarch package, listed under each arch with one identity,
    // would be the installed (foreign) one.
    const text = await readFile(o.installed, 'utf8');
    await writeFile(join(dir, 'root/lib/apk/db/installed'), text.replace(/^A:(.*)$/gm, (line, a: string) => (a === o.baseArch ? `A:${o.arch}` : line)));
  } else await copyFile(o.installed, join(dir, 'root/lib/apk/db/installed'));
  if (o.world) await copyFile(o.world, join(dir, 'root/etc/apk/world'));
  else await writeFile(join(dir, 'root/etc/apk/world'), '');
  const lines: string[] = [];
  for (const [i, r] of o.repos.entries()) {
    await mkdir(join(dir, 'repos', String(i), o.arch), { recursive: true });
    // apk 3's repository line: [v3] [@tag] URL (repoparser.c)
    await writeFile(join(dir, 'repos', String(i), o.arch, r.v3 ? 'Packages.adb' : 'APKINDEX.tar.gz'), r.data);
    lines.push(`${r.v3 ? 'v3 ' : ''}${r.tag ? `@${r.tag} ` : ''}${join(dir, 'repos', String(i))}`);
  }
  await writeFile(join(dir, 'repositories'), `${lines.join('\n')}\n`);
  for (const [name, key] of o.keys ?? []) await writeFile(join(dir, 'keys', name), key.export({ type: 'spki', format: 'pem' }));
  await writeFile(join(dir, 'apk.conf'), '');
  return [
    '--root', join(dir, 'root'),
    '--arch', o.arch,
    '--repositories-file', join(dir, 'repositories'),
    '--keys-dir', join(dir, 'keys'),
    '--no-network',
    '--no-cache',
    '--no-interactive',
    '--no-progress',
    ...(o.keys ? [] : ['--allow-untrusted']),
  ];
}

/**
 * Writes the scratch world and starts apk; `changes` settles with what `apk add NAMES` would change on the base,
 * as apk reports it, and the caller works meanwhile (apk is running when this returns).
 */
export async function startApkChoose(o: ApkRun, repoNames: string[]): Promise<{ changes: Promise<Change[]> }> {
  const options = await writeScratch(o);
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C', APK_CONFIG: join(o.scratch, 'apk.conf') };
  const changes = run('apk', ['add', '--simulate', ...options, ...o.names], { env, signal: o.signal, missingHint: APK_HINT }).then((res) => {
    if (res.code !== 0) throw apkFailure(res.stdout, res.stderr, repoNames);
    return parseChanges(res.stdout);
  });
  return { changes };
}
