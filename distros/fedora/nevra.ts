/**
 * Rpm names and Koji paths (pure). Koji's package archive lays builds out as
 * `<srpm name>/<srpm version>/<srpm release>/<arch>/<name>-<version>-<release>.<arch>.rpm`, and the lockfile
 * uses exactly that path, so one path serves the archive and (through repodata lookups) the mirrors.
 */
import type { PackageRef } from '../../src/distro/types.js';

export interface Nevra {
  name: string;
  /** Empty when the package has no epoch (rpm's `(none)`). */
  epoch: string;
  version: string;
  release: string;
  arch: string;
}

/** `[epoch:]version-release`, the form rpm and dnf print. */
export function evrString(p: Pick<Nevra, 'epoch' | 'version' | 'release'>): string {
  return `${p.epoch && p.epoch !== '0' ? `${p.epoch}:` : ''}${p.version}-${p.release}`;
}

export function rpmFileName(p: Nevra): string {
  return `${p.name}-${p.version}-${p.release}.${p.arch}.rpm`;
}

/** Splits `name-version-release` from the right (names may contain dashes, version and release may not). */
export function splitNvr(nvr: string): { name: string; version: string; release: string } | undefined {
  const r = nvr.lastIndexOf('-');
  if (r <= 0) return undefined;
  const v = nvr.lastIndexOf('-', r - 1);
  if (v <= 0) return undefined;
  const out = { name: nvr.slice(0, v), version: nvr.slice(v + 1, r), release: nvr.slice(r + 1) };
  return out.name && out.version && out.release ? out : undefined;
}

/** `hello-2.12.1-5.fc40.src.rpm` -> name, version, release of the source package. */
export function parseSourceRpm(srpm: string): { name: string; version: string; release: string } | undefined {
  const m = /^(.*)\.(?:no)?src\.rpm$/.exec(srpm);
  return m ? splitNvr(m[1]) : undefined;
}

/** `<name>-<version>-<release>.<arch>.rpm` -> its parts; undefined for anything else. */
export function parseRpmFileName(file: string): Omit<Nevra, 'epoch'> | undefined {
  const m = /^(.+)\.([A-Za-z0-9_]+)\.rpm$/.exec(file);
  if (!m) return undefined;
  const nvr = splitNvr(m[1]);
  return nvr ? { ...nvr, arch: m[2] } : undefined;
}

/** The Koji path of a binary rpm built from `sourceRpm`; undefined when the source rpm name is not `n-v-r.src.rpm`. */
export function kojiPath(p: Nevra, sourceRpm: string): string | undefined {
  const src = parseSourceRpm(sourceRpm);
  if (!src) return undefined;
  return `${src.name}/${src.version}/${src.release}/${p.arch}/${rpmFileName(p)}`;
}

/**
 * Lockfile path -> package. The epoch is not part of Koji's path, so versions are `version-release`
 * here and in installed() alike.
 */
export function inspectKojiPath(path: string): PackageRef | undefined {
  const parts = path.split('/');
  if (parts.length !== 5) return undefined;
  const [srcName, srcVersion, srcRelease, arch, file] = parts;
  if (!srcName || !srcVersion || !srcRelease) return undefined;
  const p = parseRpmFileName(file);
  if (!p || p.arch !== arch) return undefined;
  return { name: p.name, version: `${p.version}-${p.release}`, arch: p.arch };
}

/** The version string of Koji paths (see inspectKojiPath): `version-release`, no epoch. */
export function refOf(p: Nevra): PackageRef {
  return { name: p.name, version: `${p.version}-${p.release}`, arch: p.arch };
}

/** An installed package as rpm and dnf show it: `[epoch:]version-release`. */
export function installedRefOf(p: Nevra): PackageRef {
  return { name: p.name, version: evrString(p), arch: p.arch };
}

/**
 * The lockfile header that records what Koji paths cannot: each pinned package's epoch, `name.arch=E` for those
 * that have one, `none` when no package has. A lockfile with it compares epochs exactly (an epoch-only change is
 * drift); one without it (older lockfiles) matches any epoch.
 */
export const EPOCHS_HEADER = 'epochs';

export function formatEpochs(pkgs: Nevra[]): string {
  const withEpoch = pkgs.filter((p) => p.epoch && p.epoch !== '0').map((p) => `${p.name}.${p.arch}=${p.epoch}`);
  return withEpoch.length ? [...new Set(withEpoch)].sort().join(' ') : 'none';
}

/** The pinned `E:V-R` of a Koji path's package under the lockfile's epochs header (`0:` when it lists none for it). */
export function pinnedEvr(ref: PackageRef, headers: Record<string, string>): string {
  const value = headers[EPOCHS_HEADER];
  if (value === undefined) return ref.version;
  const epochs = new Map(
    value
      .split(/\s+/)
      .filter((w) => w.includes('='))
      .map((w) => [w.slice(0, w.lastIndexOf('=')), w.slice(w.lastIndexOf('=') + 1)] as const),
  );
  return `${epochs.get(`${ref.name}.${ref.arch}`) ?? '0'}:${ref.version}`;
}
