/**
 * `lock` for Debian and Ubuntu: package names -> what `apt-get install` of them would add to the base. pinget
 * fetches and verifies the indexes (lock-indexes.ts), apt chooses (apt-resolve.ts), and the lockfile holds the
 * chosen files with the SHA256 of the signed index apt read them from.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PingetError } from '../../src/errors.js';
import { readOsRelease } from '../../src/distro/os-release.js';
import type { DistroInfo, ResolveRequest, ResolveResult } from '../../src/distro/types.js';
import { formatManual, markName } from '../../src/manual-marks.js';
import { aptChoose } from './apt-resolve.js';
import { distroHeader, isoSeconds } from './generate.js';
import { KeyResolver } from './keys.js';
import { fetchIndexes, layoutLists } from './lock-indexes.js';
import { aptStateDir } from './apt-state.js';
import { baseSources, emptyBaseSources, onSnapshot, type LockSource } from './lock-sources.js';
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

async function baseInfo(req: ResolveRequest, sources: LockSource[], releaseCodename: string | undefined, releaseVersion: string | undefined): Promise<DistroInfo> {
  if ('root' in req.base) {
    const os = await readOsRelease(req.base.root);
    return { id: 'debian', osId: (os?.ID ?? 'debian').toLowerCase(), idLike: [], versionId: os?.VERSION_ID, codename: os?.VERSION_CODENAME || os?.UBUNTU_CODENAME || releaseCodename, arch: req.arch };
  }
  const major = req.base.empty.osId === 'ubuntu' ? releaseVersion : releaseVersion?.split('.')[0];
  void sources;
  return { id: 'debian', osId: req.base.empty.osId, idLike: [], versionId: major, codename: releaseCodename ?? req.base.empty.release, arch: req.arch };
}

export async function resolveDebian(req: ResolveRequest): Promise<ResolveResult> {
  checkRequest(req.names);
  const warn = (m: string) => req.log.warn(m);
  const root = 'root' in req.base ? req.base.root : undefined;
  let sources = root ? await baseSources(root, req.arch, warn) : await emptyBaseSources((req.base as { empty: { osId: string; release: string; mirrors: string[] } }).empty, req.arch, warn);
  const osId = root ? ((await readOsRelease(root))?.ID ?? 'debian').toLowerCase() : (req.base as { empty: { osId: string } }).empty.osId;
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
  const first = suites.find((s) => s.release.codename)?.release;
  const info = await baseInfo(req, sources, first?.codename, first?.version);
  const headers: Record<string, string> = { distro: distroHeader(info) };
  const dates = suites.map((s) => s.date?.getTime()).filter((t): t is number => t !== undefined);
  const sde = process.env.SOURCE_DATE_EPOCH;
  if (req.snapshot) headers.snapshot = isoSeconds(req.snapshot);
  else if (sde && /^\d+$/.test(sde)) headers.snapshot = isoSeconds(new Date(Number(sde) * 1000));
  else if (dates.length) headers.snapshot = isoSeconds(new Date(Math.max(...dates)));
  const manual = new Set(req.names.map(bareName));
  for (const p of minbase?.packages ?? []) manual.add(p.name);
  const chosen = new Set(choice.packages.map((p) => p.name));
  const marks = choice.packages.filter((p) => manual.has(p.name) || manual.has(`${p.name}:${p.arch}`)).map((p) => markName(p, req.arch));
  if (chosen.size) headers.manual = formatManual(marks);
  const entries = [...new Map(choice.entries.map((e) => [e.path, e])).values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { entries, headers, packages: choice.packages };
}
