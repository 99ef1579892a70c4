/**
 * The Arch Linux Archive (ALA) as a resolver, `arch-archive+<base URL>`. The archive has two trees
 * (https://wiki.archlinux.org/title/Arch_Linux_Archive):
 *  - `packages/<first letter>/<name>/<file>`: every version of every package, with its `.sig`;
 *  - `repos/YYYY/MM/DD/<repo>/os/<arch>/<file>`: daily snapshots of the mirrors, what archlinux-docker's
 *    REPRO.md points pacman at (`Server = <archive>/repos/<ARCHIVE_SNAPSHOT>/$repo/os/$arch`).
 * The provider tries the package's own directory first (name from target.ref, else from the file name),
 * then, for `<repo>/os/<arch>/<file>` paths of a lockfile with a `snapshot` header, that day's tree and
 * the next day's (a package built late on day D reached the mirrors, and so the archive, after D's copy).
 */
import { encodeSegment } from '../template.js';
import type { FetchBody, FetchTarget, Provider, ProviderContext } from '../types.js';
import { firstServed, type PoliteOptions } from './polite.js';
import { httpLimits } from '../http-download.js';
import { Attempts, resolverTemplate, snapshotTimestamp, type ArchiveResolver } from './types.js';

export const ARCH_ARCHIVE_NAME = 'arch-archive';
export const ARCH_ARCHIVE_BASE = 'https://archive.archlinux.org';

const PKG_FILE = /^(.+)-[^-/]+-[^-/]+-[^-/]+\.pkg\.tar(?:\.[A-Za-z0-9]+)?(?:\.sig)?$/;

/** The package name behind a target: target.ref, else parsed from the file name (also for `.sig` files). */
export function packageNameOf(target: FetchTarget): string | undefined {
  if (target.ref?.name) return target.ref.name;
  return PKG_FILE.exec(fileOf(target.path))?.[1];
}

function fileOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** `<base>/packages/<l>/<name>/<file>`, or undefined when the target is not a package file. */
export function archivePackageUrl(base: string, target: FetchTarget): string | undefined {
  const name = packageNameOf(target);
  if (!name || !PKG_FILE.test(fileOf(target.path))) return undefined;
  return `${base}/packages/${encodeSegment(name[0])}/${encodeSegment(name)}/${encodeSegment(fileOf(target.path))}`;
}

/** The snapshot header's UTC day and the day after, as `YYYY/MM/DD`; [] without a readable header. */
export function snapshotDays(header: string | undefined): string[] {
  const ts = snapshotTimestamp(header);
  if (!ts) return [];
  const ms = Date.UTC(Number(ts.slice(0, 4)), Number(ts.slice(4, 6)) - 1, Number(ts.slice(6, 8)));
  const day = (t: number) => new Date(t).toISOString().slice(0, 10).replaceAll('-', '/');
  return [day(ms), day(ms + 86_400_000)];
}

/** `<base>/repos/YYYY/MM/DD/<repo>/os/<arch>/<file>` per candidate day; [] for other path layouts. */
export function archiveSnapshotUrls(base: string, target: FetchTarget): string[] {
  const parts = target.path.split('/');
  if (parts.length !== 4 || parts[1] !== 'os') return [];
  const tail = parts.map(encodeSegment).join('/');
  return snapshotDays(target.headers.snapshot).map((d) => `${base}/repos/${d}/${tail}`);
}

/** Every URL the provider tries for a target, in order. */
export function archArchiveUrls(base: string, target: FetchTarget): string[] {
  const byName = archivePackageUrl(base, target);
  return [...(byName ? [byName] : []), ...archiveSnapshotUrls(base, target)];
}

class ArchArchiveProvider implements Provider {
  readonly label: string;

  constructor(
    private readonly base: string,
    private readonly http: PoliteOptions,
  ) {
    this.label = resolverTemplate(ARCH_ARCHIVE_NAME, base);
  }

  async open(target: FetchTarget, signal: AbortSignal): Promise<FetchBody> {
    const attempts = new Attempts(this.label);
    const urls = archArchiveUrls(this.base, target);
    if (urls.length === 0) attempts.note('not an Arch package file name, and not a <repo>/os/<arch>/<file> path of a lockfile with a snapshot header');
    const served = await firstServed(urls, this.base, { ...this.http, signal }, attempts);
    if (served) return served;
    throw attempts.error(target.path);
  }
}

export const archArchive: ArchiveResolver = {
  name: ARCH_ARCHIVE_NAME,
  defaultBase: ARCH_ARCHIVE_BASE,
  create: (base: string, ctx: ProviderContext) =>
    new ArchArchiveProvider(base.replace(/\/+$/, ''), httpLimits(ctx)),
};
