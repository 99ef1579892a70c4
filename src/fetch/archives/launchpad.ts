/**
 * Launchpad's archive file links as a provider: `<base>/ubuntu/+archive/primary/+files/<file name>` serves
 * any file ever published in Ubuntu's primary archive, by name, through a redirect to its librarian.
 * It is Ubuntu's fallback when the lockfile has no `snapshot` header or predates the snapshot service
 * (March 2023). A resolver rather than a plain http template: it shares the archives' politeness (per-host cap, backoff).
 */
import { encodeSegment } from '../template.js';
import type { FetchBody, FetchTarget, Provider, ProviderContext } from '../types.js';
import { politeGet, type PoliteOptions } from './polite.js';
import { httpLimits } from '../http-download.js';
import { Attempts, resolverTemplate, type ArchiveResolver } from './types.js';

export const LAUNCHPAD_NAME = 'ubuntu-launchpad';
export const LAUNCHPAD_BASE = 'https://launchpad.net';
export const LAUNCHPAD_API_BASE = 'https://api.launchpad.net';

/**
 * The web service root for a Launchpad base: Launchpad's own is on its api. host; a base given with
 * `--archive-url ubuntu-launchpad=URL` (a mirror or stand-in) serves both its files and `devel/...`.
 */
export function launchpadApiRoot(base: string): string {
  return base === LAUNCHPAD_BASE ? LAUNCHPAD_API_BASE : base;
}

export class LaunchpadProvider implements Provider {
  readonly label: string;

  constructor(
    readonly base: string,
    private readonly http: Omit<PoliteOptions, 'signal'>,
  ) {
    this.label = resolverTemplate(LAUNCHPAD_NAME, base);
  }

  url(target: FetchTarget): string {
    const name = target.path.slice(target.path.lastIndexOf('/') + 1);
    return `${this.base}/ubuntu/+archive/primary/+files/${encodeSegment(name)}`;
  }

  async open(target: FetchTarget, signal: AbortSignal): Promise<FetchBody> {
    const url = this.url(target);
    try {
      return await politeGet(url, { ...this.http, signal });
    } catch (e) {
      if (signal.aborted) throw e;
      const attempts = new Attempts(this.label);
      attempts.add(url.slice(this.base.length + 1), e);
      throw attempts.error(target.path);
    }
  }
}

export const launchpad: ArchiveResolver = {
  name: LAUNCHPAD_NAME,
  defaultBase: LAUNCHPAD_BASE,
  create: (base: string, ctx: ProviderContext) => new LaunchpadProvider(base, httpLimits(ctx)),
};
