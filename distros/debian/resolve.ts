/**
 * `lock` for Debian and Ubuntu: package names -> what `apt-get install` of them would add to the base. pinget
 * fetches and verifies the indexes (lock-indexes.ts), apt chooses (apt-resolve.ts), and the lockfile holds the
 * chosen files with the SHA256 of the signed index apt read them from.
 */
import { join } from 'node:path';
import { PingetError } from '../../src/errors.js';
import { readOsRelease, type OsRelease } from '../../src/distro/os-release.js';
import { byEntryPath } from '../../src/lockfile.js';
import type { DistroInfo, ResolveRequest, ResolveResult } from '../../src/distro/types.js';
import { formatManual, markName } from '../../src/manual-marks.js';
import { aptChoose } from './apt-resolve.js';
import { distroHeader, isoSeconds, snapshotHeader } from './generate.js';
import { KeyResolver } from './keys.js';
import { fetchIndexes, layoutLists } from './lock-indexes.js';
import { aptStateDir } from './apt-state.js';
import { baseSources, emptyBaseSources, onSnapshot } from './lock-sources.js';
import { nativeArch } from './native-arch.js';

/** What mmdebstrap's minbase variant installs: the Essential set, Priority required, and apt. */
export const MINBASE_REQUEST = ['?essential', '?priority(required)', 'apt'];

/** A requested name without its version or release (`hello=2.10-3`, `hello/bookworm` -> `hello`). */
export function bareName(request: string): string {
  return request.split(/[=/]/)[0];
}

const DEB_NAME = /^[a-z0-9][a-z0-9+.-]*(:[a-z0-9-]+)?([=/][A-Za-z0-9.+~:_-]+)?$/;

export function checkRequest(names: string[]): void {
  const bad = names.filter((n) => !DEB_NAME.test(n));
  if (bad.length) throw new PingetError('USAGE', `not a Debian package name (name, name=version or name/release): ${bad.slice(0, 3).map((b) => JSON.stringify(b.slice(0, 80))).join(', ')}`);
}

/** The distro header's parts: the base's os-release, or for an empty base the release files read. */
function baseInfo(req: ResolveRequest, os: OsRelease | undefined, release: { codename?: string; version?: string } | undefined): DistroInfo {
  if ('root' in req.base) {
    return { id: 'debian', osId: (os?.ID ?? 'debian').toLowerCase(), idLike: [], versionId: os?.VERSION_ID, codename: os?.VERSION_CODENAME || os?.UBUNTU_CODENAME || release?.codename, arch: req.arch };
  }
  const { osId, release: name } = req.base.empty;
  const versionId = osId === 'ubuntu' ? release?.version : release?.version?.split('.')[0];
  return { id: 'debian', osId, idLike: [], versionId, codename: release?.codename ?? name, arch: req.arch };
}

export async function resolveDebian(req: ResolveRequest): Promise<ResolveResult> {
  checkRequest(req.names);
  const warn = (m: string) => req.log.warn(m);
  const root = 'root' in req.base ? req.base.root : undefined;
  const os = root ? await readOsRelease(root) : undefined;
  let sources = 'root' in req.base ? await baseSources(req.base.root, req.arch, warn) : await emptyBaseSources(req.base.empty, req.arch, warn);
  const osId = 'root' in req.base ? (os?.ID ?? 'debian').toLowerCase() : req.base.empty.osId;
  if (req.snapshot) sources = onSnapshot(sources, osId, req.snapshot, req.archive.archiveUrls ?? {});
  const keys = new KeyResolver(root ?? '/', req.log);
  const { suites, lists } = await fetchIndexes(sources, {
    arch: req.arch,
    fetcher: req.fetcher,
    keysFor: async (s) => (req.allowUnsigned ? undefined : keys.keysFor(s.signedBy, s.origin)),
    log: req.log,
  });
  const stateDir = await aptStateDir(req.stateRoot, req.arch, lists);
  await layoutLists(join(stateDir, 'lists'), lists);
  const baseArch = root ? await nativeArch(root) : undefined;
  const common = { arch: req.arch, sources, baseRoot: root, baseArch, recommends: req.recommends ? undefined : false, targetRelease: req.targetRelease, ignoreValidUntil: !!req.snapshot, signal: req.signal };
  const request = root ? req.names : [...MINBASE_REQUEST, ...req.names];
  // An empty base: what the minbase set alone pulls in stays manual, as mmdebstrap leaves it; apt marks only
  // what the user's names pulled in as automatic.
  const [choice, minbase] = await Promise.all([
    aptChoose({ ...common, scratch: join(req.scratch, 'apt'), stateDir, request }),
    root || req.names.length === 0 ? undefined : aptChoose({ ...common, scratch: join(req.scratch, 'apt-minbase'), stateDir, request: MINBASE_REQUEST }),
  ]);
  const headers: Record<string, string> = { distro: distroHeader(baseInfo(req, os, suites.find((s) => s.release.codename)?.release)) };
  const snapshot = req.snapshot ? isoSeconds(req.snapshot) : snapshotHeader(suites.flatMap((s) => (s.date ? [s.date] : [])));
  if (snapshot) headers.snapshot = snapshot;
  const manual = new Set(req.names.map(bareName));
  for (const p of minbase?.packages ?? []) manual.add(p.name);
  const marks = choice.packages.filter((p) => manual.has(p.name) || manual.has(`${p.name}:${p.arch}`)).map((p) => markName(p, req.arch));
  if (choice.packages.length) headers.manual = formatManual(marks);
  const entries = [...new Map(choice.entries.map((e) => [e.path, e])).values()].sort(byEntryPath);
  if (!req.sources) return { entries, headers, packages: choice.packages };
  // --sources: each chosen binary's source package, from the Packages indexes it was chosen from.
  const { sourcesFromIndexes } = await import('./source-pins.js');
  const found = await sourcesFromIndexes(lists.flatMap((l) => (l.file && l.name.endsWith('_Packages') ? [l.file] : [])), choice.packages);
  const byPath = new Map(choice.entries.map((e, i) => [e.path, found[i]]));
  return { entries, headers, packages: choice.packages, sources: entries.map((e) => byPath.get(e.path)) };
}
