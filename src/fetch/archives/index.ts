/**
 * The archive tail of each distro's default chain, and the factories of the archive resolvers.
 * Every base URL is overridable by name (`--archive-url debian-snapshot=https://internal/snapshot`);
 * the distro id works too and names that distro's first archive (`--archive-url debian=...`).
 */
import type { ProviderSpec } from '../../distro/types.js';
import { PingetError } from '../../errors.js';
import type { ProviderFactory } from '../types.js';
import { archArchive } from './arch.js';
import { debianSnapshot } from './debian-snapshot.js';
import { launchpad } from './launchpad.js';
import { resolverFactory, resolverTemplate, snapshotTimestamp } from './types.js';
import { ubuntuSnapshot } from './ubuntu-snapshot.js';

/** One archive in a distro's tail: a resolver (`name+base`) or a plain http template over its base. */
interface ArchiveEntry {
  name: string;
  defaultBase: string;
  label: string;
  template(base: string): string;
  /** Left out of the chain when it cannot serve this lockfile (e.g. dated trees without a date). */
  usable?(headers: Record<string, string>): boolean;
}

const hasSnapshot = (headers: Record<string, string>) => snapshotTimestamp(headers.snapshot) !== undefined;

const ARCHIVES: Record<string, ArchiveEntry[]> = {
  debian: [
    {
      name: debianSnapshot.name,
      defaultBase: debianSnapshot.defaultBase,
      label: 'Debian snapshot archive (dated tree, then lookup by name and version)',
      template: (b) => resolverTemplate(debianSnapshot.name, b),
    },
  ],
  ubuntu: [
    {
      name: ubuntuSnapshot.name,
      defaultBase: ubuntuSnapshot.defaultBase,
      label: 'Ubuntu snapshot service (dated tree)',
      template: (b) => resolverTemplate(ubuntuSnapshot.name, b),
      usable: hasSnapshot,
    },
    {
      name: launchpad.name,
      defaultBase: launchpad.defaultBase,
      label: "Launchpad's published files (by file name)",
      template: (b) => resolverTemplate(launchpad.name, b),
    },
  ],
  fedora: [
    {
      // Koji keeps every build under the lockfile's own path layout: a plain http template.
      name: 'fedora-koji',
      defaultBase: 'https://kojipkgs.fedoraproject.org',
      label: 'Fedora Koji package archive',
      template: (b) => `${b}/packages/{{.Name}}`,
    },
  ],
  // Alpine keeps no archive of superseded packages.
  alpine: [],
  arch: [
    {
      name: archArchive.name,
      defaultBase: archArchive.defaultBase,
      label: 'Arch Linux Archive (by package name, then the dated tree of the snapshot day)',
      template: (b) => resolverTemplate(archArchive.name, b),
    },
  ],
};

/**
 * Whose archives serve a root: its adapter's, except that Ubuntu (and a derivative naming it, not
 * Debian, in ID_LIKE) is served by Ubuntu's, not Debian's, under the one Debian/Ubuntu adapter.
 */
export function archiveDistro(info: { id: string; osId: string; idLike: string[] }): string {
  if (info.id === 'debian' && (info.osId === 'ubuntu' || (info.osId !== 'debian' && info.idLike.includes('ubuntu')))) return 'ubuntu';
  return info.id;
}

/** The distros pinget knows archives for, ubuntu (served by the debian adapter) among them. */
export function archiveDistros(): string[] {
  return Object.keys(ARCHIVES);
}

/** Factories for src/fetch/providers.ts: one per resolver scheme. */
export const ARCHIVE_FACTORIES: ProviderFactory[] = [debianSnapshot, ubuntuSnapshot, launchpad, archArchive].map(resolverFactory);

/** Names `--archive-url` accepts: every archive's name and every distro id that has one. */
export function archiveNames(): string[] {
  const names = Object.entries(ARCHIVES).flatMap(([distro, list]) => (list.length > 0 ? [distro, ...list.map((a) => a.name)] : []));
  return [...new Set(names)].sort();
}

function checkedBase(key: string, url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new PingetError('USAGE', `--archive-url ${key}=${url}: not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new PingetError('USAGE', `--archive-url ${key}=${url}: expected an http:// or https:// URL`);
  return url.replace(/\/+$/, '');
}

/**
 * The base URL of one archive: `--archive-url NAME=URL`, else the distro id's override when it is the
 * distro's first archive, else its default. For code that talks to an archive directly (hash generate's
 * evidence lookups) rather than through a provider template.
 */
export function archiveBase(distroId: string, name: string, archiveUrls: Record<string, string> = {}): string {
  const list = ARCHIVES[distroId] ?? [];
  const entry = list.find((a) => a.name === name);
  if (!entry) throw new PingetError('INTERNAL', `no archive ${name} for ${distroId}`);
  const key = name in archiveUrls ? name : entry === list[0] && distroId in archiveUrls ? distroId : undefined;
  return key ? checkedBase(key, archiveUrls[key]) : entry.defaultBase;
}

/**
 * The default archive providers for a distro, in the order to try them, after the system's mirrors.
 * `archiveUrls` overrides base URLs by archive name, or by distro id for the distro's first archive.
 */
export function archiveProviders(distroId: string, headers: Record<string, string>, archiveUrls: Record<string, string> = {}): ProviderSpec[] {
  const list = ARCHIVES[distroId] ?? [];
  return list
    .filter((a) => !a.usable || a.usable(headers))
    .map((a) => {
      const key = a.name in archiveUrls ? a.name : a === list[0] && distroId in archiveUrls ? distroId : undefined;
      const base = key ? checkedBase(key, archiveUrls[key]) : a.defaultBase;
      return { template: a.template(base), label: a.label };
    });
}
