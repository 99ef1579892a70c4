/**
 * The Ubuntu snapshot service as a provider: dated trees only, `<base>/<archive>/<YYYYMMDDTHHMMSSZ>/<path>`
 * (the `Snapshots:` field of Ubuntu's Release files, e.g. .../ubuntu/@SNAPSHOTID@). amd64 and i386 live in
 * the `ubuntu` archive, every other architecture in `ubuntu-ports`; `all` packages are in both. The service
 * has no lookup by name, so without a `snapshot` header there is nothing to try.
 */
import { encodePath } from '../template.js';
import type { FetchBody, FetchTarget, Provider, ProviderContext } from '../types.js';
import { firstServed, type PoliteOptions } from './polite.js';
import { httpLimits } from '../http-download.js';
import { Attempts, lockfileArch, resolverTemplate, snapshotTimestamp, type ArchiveResolver } from './types.js';

export const UBUNTU_SNAPSHOT_NAME = 'ubuntu-snapshot';
export const UBUNTU_SNAPSHOT_BASE = 'https://snapshot.ubuntu.com';
const PRIMARY_ARCHES = new Set(['amd64', 'i386']);

/** The archives to look in for a package of this architecture, most likely first. */
export function ubuntuArchives(arch: string | undefined, lockArch: string | undefined): string[] {
  const a = arch === 'all' || !arch ? lockArch : arch;
  if (!a) return ['ubuntu', 'ubuntu-ports'];
  return PRIMARY_ARCHES.has(a) ? ['ubuntu'] : ['ubuntu-ports'];
}

export class UbuntuSnapshotProvider implements Provider {
  readonly label: string;

  constructor(
    readonly base: string,
    private readonly http: Omit<PoliteOptions, 'signal'>,
  ) {
    this.label = resolverTemplate(UBUNTU_SNAPSHOT_NAME, base);
  }

  urls(target: FetchTarget): string[] {
    const ts = snapshotTimestamp(target.headers.snapshot);
    if (!ts) return [];
    const arch = target.ref?.arch ?? /_([a-z0-9-]+)\.u?deb$/.exec(target.path)?.[1];
    return ubuntuArchives(arch, lockfileArch(target.headers)).map((archive) => `${this.base}/${archive}/${ts}/${encodePath(target.path)}`);
  }

  async open(target: FetchTarget, signal: AbortSignal): Promise<FetchBody> {
    const attempts = new Attempts(this.label);
    const urls = this.urls(target);
    if (urls.length === 0) {
      attempts.note(
        target.headers.snapshot
          ? `snapshot header "${target.headers.snapshot}" is not a date`
          : 'the lockfile has no snapshot header, and this archive is reached by date only',
      );
    }
    const served = await firstServed(urls, this.base, { ...this.http, signal }, attempts);
    if (served) return served;
    throw attempts.error(target.path);
  }
}

export const ubuntuSnapshot: ArchiveResolver = {
  name: UBUNTU_SNAPSHOT_NAME,
  defaultBase: UBUNTU_SNAPSHOT_BASE,
  create: (base: string, ctx: ProviderContext) =>
    new UbuntuSnapshotProvider(base, httpLimits(ctx)),
};
