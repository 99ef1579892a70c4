/**
 * `hash generate` for Debian/Ubuntu: installed packages (dpkg status) joined with apt's Packages indexes on
 * (name, version, arch) for their SHA256 and pool path, after checking each index against its signed release
 * file; packages no index knows fall back to the .deb in var/cache/apt/archives.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PingetError } from '../../src/errors.js';
import { runChecked } from '../../src/exec.js';
import type { LockEntry } from '../../src/lockfile.js';
import { sha256File } from '../../src/verify/sha256.js';
import type { DistroInfo, GenerateOptions, GenerateResult } from '../../src/distro/types.js';
import { findPackagesLists, scanPackagesFile, type ListFile } from './apt-lists.js';
import { displayName, readStatus, type InstalledDeb } from './dpkg-status.js';
import { KeyResolver } from './keys.js';
import { aptCacheName, guessPoolPath } from './pool-path.js';
import { checkIndexDigests, parseRelease, readSignedRelease, type ReleaseFile } from './release.js';
import { listPrefix, readSources, type SourceEntry } from './sources.js';
import { manualHeader } from './manual-marks.js';
import { resolveUnlisted } from './unlisted.js';
import { resolveInRoot } from '../../src/root-path.js';

const keyOf = (p: { name: string; version: string; arch: string }) => `${p.name}\0${p.version}\0${p.arch}`;


export function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The snapshot header: SOURCE_DATE_EPOCH when set, else the newest Date of the signed releases read. */
export function snapshotHeader(releaseDates: Date[]): string | undefined {
  const sde = process.env.SOURCE_DATE_EPOCH;
  if (sde && /^\d+$/.test(sde)) return isoSeconds(new Date(Number(sde) * 1000));
  return releaseDates.length ? isoSeconds(new Date(Math.max(...releaseDates.map((d) => d.getTime())))) : undefined;
}

/** `debian 12 (bookworm) amd64` */
export function distroHeader(info: DistroInfo): string {
  return [info.osId, info.versionId, info.codename ? `(${info.codename})` : undefined, info.arch].filter(Boolean).join(' ');
}

function selectPackages(all: InstalledDeb[], only: string[] | undefined): InstalledDeb[] {
  if (!only || only.length === 0) return all;
  const missing: string[] = [];
  const out: InstalledDeb[] = [];
  for (const want of only) {
    const [name, arch] = want.split(':');
    const hits = all.filter((p) => p.name === name && (!arch || p.arch === arch));
    if (hits.length === 0) missing.push(want);
    out.push(...hits);
  }
  if (missing.length) throw new PingetError('BAD_INPUT', `not installed: ${missing.join(', ')}`);
  return [...new Map(out.map((p) => [keyOf(p), p])).values()];
}

function sourceFor(sources: SourceEntry[], prefix: string): SourceEntry | undefined {
  for (const s of sources) {
    if (!s.types.includes('deb')) continue;
    for (const uri of s.uris) for (const suite of s.suites) if (listPrefix(uri, suite) === prefix) return s;
  }
  return undefined;
}

export async function generateDebian(root: string, info: DistroInfo, opts: GenerateOptions): Promise<GenerateResult> {
  const packages = selectPackages(await readStatus(root), opts.only);
  const want = new Set(packages.map(keyOf));
  const found = new Map<string, LockEntry>();
  const listsDir = resolveInRoot(root, 'var/lib/apt/lists');
  const sources = await readSources(root, (file, reason) => opts.log.warn(`ignoring ${file}: ${reason}`));
  // The same version can sit in two suites under different pool paths (a point release and -security);
  // take the one from the source apt lists first, as apt does, so the path matches what apt would fetch.
  const rank = (l: ListFile) => {
    const s = l.releasePrefix ? sourceFor(sources, l.releasePrefix) : undefined;
    return s ? sources.indexOf(s) : sources.length;
  };
  const lists = (await findPackagesLists(listsDir)).map((l) => ({ l, r: rank(l) })).sort((a, b) => a.r - b.r).map((x) => x.l);
  const keys = new KeyResolver(root, opts.log);
  const releases = new Map<string, Promise<{ release: ReleaseFile; file: string }>>();
  const usedDates: Date[] = [];
  const skipped: string[] = [];
  const names = new Set(packages.map((p) => p.name));
  /** `name\0arch` -> the versions the lists have; complete whenever something is left unpinned (no early break then). */
  const listed = new Map<string, Set<string>>();

  const releaseOf = (prefix: string) => {
    let p = releases.get(prefix);
    if (!p) {
      p = (async () => {
        const source = sourceFor(sources, prefix);
        const k = opts.allowUnsigned ? undefined : await keys.keysFor(source?.signedBy, source?.origin);
        const { text, file } = await readSignedRelease(listsDir, prefix, k);
        return { release: parseRelease(text, file), file };
      })();
      releases.set(prefix, p);
    }
    return p;
  };

  for (const list of lists) {
    if (found.size === want.size) break;
    const file = join(listsDir, list.name);
    // Streamed and hashed in one pass; the matches are used only once the index's hash is confirmed.
    // By name: every version the lists have of an installed package is noted, for the hints about what
    // cannot be pinned (no second pass over the lists); only exact (name, version, arch) matches are pinned.
    const scanned = await scanPackagesFile(file, names, { byName: true });
    for (const r of scanned.records) {
      const k = `${r.name}\0${r.arch}`;
      (listed.get(k) ?? listed.set(k, new Set()).get(k)!).add(r.version);
    }
    const records = scanned.records.filter((r) => want.has(keyOf(r)) && !found.has(keyOf(r)));
    if (records.length === 0) continue;
    if (list.releasePrefix) {
      const { release, file: relFile } = await releaseOf(list.releasePrefix);
      if (opts.allowUnsigned) skipped.push(list.name);
      else checkIndexDigests(release, relFile, list.relPath, list.ext, scanned.stored, scanned.plain, file);
      if (release.date) usedDates.push(release.date);
    } else if (!opts.allowUnsigned) {
      throw new PingetError('INTEGRITY', `${file}: no InRelease or Release file covers this index; run apt-get update, or pass --allow-unsigned`);
    } else skipped.push(list.name);
    for (const r of records) found.set(keyOf(r), { sha256: r.sha256, path: r.filename });
  }
  if (skipped.length) opts.log.warn(`--allow-unsigned: not checking signatures nor hashes of ${skipped.length} index(es): ${skipped.join(', ')}`);

  const missing: InstalledDeb[] = [];
  for (const p of packages) {
    if (found.has(keyOf(p))) continue;
    const entry = await fromAptCache(root, p);
    if (entry) {
      opts.log.verbose(`${displayName(p)}: no index lists it; hashed var/cache/apt/archives/${aptCacheName(p)} (pool path ${entry.path} guessed)`);
      found.set(keyOf(p), entry);
    } else missing.push(p);
  }
  for (const { pkg, entry } of await resolveUnlisted(info, opts, missing, { listsDir, lists, sources, keys, listed })) found.set(keyOf(pkg), entry);

  const headers: Record<string, string> = { distro: distroHeader(info) };
  const snapshot = snapshotHeader(usedDates);
  if (snapshot) headers.snapshot = snapshot;
  Object.assign(headers, await manualHeader(root, packages, info.arch));
  const entries = [...new Map([...found.values()].map((e) => [e.path, e])).values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { entries, headers };
}

async function fromAptCache(root: string, p: InstalledDeb): Promise<LockEntry | undefined> {
  const file = join(resolveInRoot(root, 'var/cache/apt/archives'), aptCacheName(p));
  if (!(await stat(file).catch(() => undefined))?.isFile()) return undefined;
  const res = await runChecked('dpkg-deb', ['-f', file, 'Package', 'Version', 'Architecture'], 'BAD_INPUT', {
    missingHint: 'install dpkg',
  }).catch(() => undefined);
  if (!res) return undefined;
  const f = Object.fromEntries(res.stdout.split('\n').map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  if (f.package !== p.name || f.version !== p.version || f.architecture !== p.arch) return undefined;
  return { sha256: await sha256File(file), path: guessPoolPath(p) };
}
