/**
 * The Debian snapshot archive as a provider. For one lockfile entry it tries, in order:
 *   1. the dated tree of the lockfile's `snapshot` header: archive/<debian|debian-security>/<ts>/<path>;
 *   2. the machine-readable API: mr/binary/<name>/<version>/binfiles?fileinfo=1 -> the file's SHA-1
 *      -> file/<sha1>, then that file's own dated place archive/<archive_name>/<first_seen>/<dir>/<name>.
 * The SHA-1 only locates the file; the chain's sha256 check is still the only trust.
 */
import type { PackageRef } from '../../distro/types.js';
import { encodePath, encodeSegment } from '../template.js';
import type { FetchBody, FetchTarget, Provider, ProviderContext } from '../types.js';
import { debianArchiveForPath, parseBinfiles, pickCandidates, refFromDebPath } from './debian-snapshot-api.js';
import { firstServed, politeJson, type PoliteOptions } from './polite.js';
import { httpLimits } from '../http-download.js';
import { Attempts, resolverTemplate, snapshotTimestamp, type ArchiveResolver } from './types.js';

export const DEBIAN_SNAPSHOT_NAME = 'debian-snapshot';
export const DEBIAN_SNAPSHOT_BASE = 'https://snapshot.debian.org';
/** Candidate files tried per entry after the lookup; more than one exists only for odd rebuilds. */
const MAX_CANDIDATES = 3;

export class DebianSnapshotProvider implements Provider {
  readonly label: string;

  constructor(
    readonly base: string,
    private readonly http: Omit<PoliteOptions, 'signal'>,
  ) {
    this.label = resolverTemplate(DEBIAN_SNAPSHOT_NAME, base);
  }

  /** The dated-tree URL for a target, when the lockfile has a usable snapshot header. */
  datedUrl(target: FetchTarget): string | undefined {
    const ts = snapshotTimestamp(target.headers.snapshot);
    if (!ts) return undefined;
    return `${this.base}/archive/${debianArchiveForPath(target.path)}/${ts}/${encodePath(target.path)}`;
  }

  binfilesUrl(ref: PackageRef): string {
    return `${this.base}/mr/binary/${encodeSegment(ref.name)}/${encodeSegment(ref.version)}/binfiles?fileinfo=1`;
  }

  async open(target: FetchTarget, signal: AbortSignal): Promise<FetchBody> {
    const opts = { ...this.http, signal };
    const attempts = new Attempts(this.label);

    const dated = this.datedUrl(target);
    if (dated) {
      const body = await firstServed([dated], this.base, opts, attempts);
      if (body) return body;
    } else if (target.headers.snapshot) {
      attempts.note(`snapshot header "${target.headers.snapshot}" is not a date; skipped the dated tree`);
    }

    const ref = target.ref ?? refFromDebPath(target.path);
    if (!ref) {
      attempts.note('no package name and version for this path, so no lookup');
      throw attempts.error(target.path);
    }
    const lookup = this.binfilesUrl(ref);
    let json: unknown;
    try {
      json = await politeJson(lookup, opts);
    } catch (e) {
      if (signal.aborted) throw e;
      attempts.add(lookup.slice(this.base.length + 1), e);
      throw attempts.error(target.path);
    }
    const candidates = pickCandidates(parseBinfiles(json), ref, target.path).slice(0, MAX_CANDIDATES);
    if (candidates.length === 0) {
      attempts.note(`the archive lists ${ref.name} ${ref.version} but not for architecture ${ref.arch}`);
      throw attempts.error(target.path);
    }
    // Each candidate by its SHA-1, then at the dated tree where the archive first saw it.
    const urls = candidates.flatMap((c) => [
      `${this.base}/file/${c.sha1}`,
      ...(c.firstSeen && c.name ? [`${this.base}/archive/${c.archive}/${c.firstSeen}/${encodePath(`${c.dir}/${c.name}`)}`] : []),
    ]);
    const served = await firstServed(urls, this.base, opts, attempts);
    if (served) return served;
    throw attempts.error(target.path);
  }
}

export const debianSnapshot: ArchiveResolver = {
  name: DEBIAN_SNAPSHOT_NAME,
  defaultBase: DEBIAN_SNAPSHOT_BASE,
  create: (base: string, ctx: ProviderContext) =>
    new DebianSnapshotProvider(base, httpLimits(ctx)),
};
