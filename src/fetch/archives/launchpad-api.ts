/**
 * Pure parts of Launchpad's web service API for Ubuntu's primary archive (no I/O).
 *
 * Format (Launchpad web service reference, api.launchpad.net/devel.html, archive `getPublishedBinaries`):
 *   GET <api>/devel/ubuntu/+archive/primary?ws.op=getPublishedBinaries&binary_name=<name>&version=<v>&exact_match=true
 *   { "total_size": 3, "start": 0, "next_collection_link": "...",
 *     "entries": [ { "binary_package_name": "hello", "binary_package_version": "2.10-3",
 *                    "distro_arch_series_link": "<api>/devel/ubuntu/noble/amd64",
 *                    "pocket": "Release" | "Updates" | "Security" | "Proposed" | "Backports",
 *                    "status": "Published" | "Superseded" | "Deleted" | "Obsolete" | "Pending",
 *                    "date_created": "2024-03-01T02:58:13.123456+00:00", "date_published": "...",
 *                    "date_superseded": null, "component_name": "main", ... }, ... ] }
 * One entry per (series, architecture, pocket) the version was published in; `Architecture: all`
 * packages have one for each architecture. Everything in an answer is untrusted: it only says where
 * (which dated tree, which suite) to look for the signed index that is the evidence.
 */

export interface Publication {
  name: string;
  version: string;
  series: string;
  arch: string;
  /** The apt suite of the pocket: `noble`, `noble-updates`, `noble-security`, ... */
  suite: string;
  status: string;
  published?: Date;
  created?: Date;
  superseded?: Date;
}

const NAME = /^[a-z0-9][a-z0-9.+-]*$/;
const POCKETS: Record<string, string> = { release: '', updates: '-updates', security: '-security', proposed: '-proposed', backports: '-backports' };

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function date(v: unknown): Date | undefined {
  const s = str(v);
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : new Date(t);
}

/** The query URL of one binary version (`api` is the service root, e.g. https://api.launchpad.net). */
export function publishedBinariesUrl(api: string, name: string, version: string): string {
  const q = new URLSearchParams({ 'ws.op': 'getPublishedBinaries', binary_name: name, version, exact_match: 'true' });
  return `${api}/devel/ubuntu/+archive/primary?${q.toString()}`;
}

/** Every well-formed entry of a getPublishedBinaries answer. */
export function parsePublishedBinaries(json: unknown): Publication[] {
  const entries = json && typeof json === 'object' ? (json as { entries?: unknown }).entries : undefined;
  if (!Array.isArray(entries)) return [];
  const out: Publication[] = [];
  for (const e of entries) {
    if (!e || typeof e !== 'object') continue;
    const r = e as Record<string, unknown>;
    const name = str(r.binary_package_name);
    const version = str(r.binary_package_version);
    // .../ubuntu/<series>/<arch>
    const das = /\/ubuntu\/([a-z0-9][a-z0-9.+-]*)\/([a-z0-9][a-z0-9-]*)\/?$/.exec(str(r.distro_arch_series_link) ?? '');
    const pocket = POCKETS[(str(r.pocket) ?? '').toLowerCase()];
    if (!name || !NAME.test(name) || !version || !das || pocket === undefined) continue;
    out.push({
      name,
      version,
      series: das[1],
      arch: das[2],
      suite: `${das[1]}${pocket}`,
      status: str(r.status) ?? '',
      published: date(r.date_published),
      created: date(r.date_created),
      superseded: date(r.date_superseded),
    });
  }
  return out;
}
