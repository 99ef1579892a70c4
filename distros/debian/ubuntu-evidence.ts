/**
 * Signed evidence, from the Ubuntu snapshot service, for installed packages whose version the live apt
 * lists no longer carry. For each such package:
 *  1. Launchpad's `getPublishedBinaries` (src/fetch/archives/launchpad-api.ts) gives the version's
 *     publications: series, architecture, pocket (so the suite) and `date_published` (else `date_created`);
 *     when Launchpad cannot answer, the root's own release files' `Date` stands in;
 *  2. the snapshot service's dated tree at that time, `<base>/<ubuntu|ubuntu-ports>/<YYYYMMDDTHHMMSSZ>/
 *     dists/<suite>/InRelease`, is checked exactly as Debian's are (dated-trees.ts: the root's keys, the
 *     Packages index against the signed release, the stanza by Package, Version, Architecture).
 * The service answers any time after 1 March 2023 with the archive as it was then, i.e. its newest
 * publication at or before that time (snapshot.ubuntu.com, "Ubuntu Snapshot Service"; Ubuntu Server docs,
 * "How to use the Ubuntu snapshot service"). A publication's Release files are written after its
 * `date_published` is set, so the tree an hour later is asked first, then the one just before the version
 * was superseded (when Launchpad says it was). amd64 and i386 are in `ubuntu`, the rest in `ubuntu-ports`.
 * The bytes come, at install, from the snapshot service's pool or Launchpad's `+files` links
 * (src/fetch/archives/ubuntu-snapshot.ts, launchpad.ts), checked against the pinned sha256.
 */
import pLimit from 'p-limit';
import { archiveBase } from '../../src/fetch/archives/index.js';
import { LAUNCHPAD_NAME, launchpadApiRoot } from '../../src/fetch/archives/launchpad.js';
import { parsePublishedBinaries, publishedBinariesUrl, type Publication } from '../../src/fetch/archives/launchpad-api.js';
import { politeJson, type PoliteOptions } from '../../src/fetch/archives/polite.js';
import { snapshotTimestamp } from '../../src/fetch/archives/types.js';
import { UBUNTU_SNAPSHOT_NAME, ubuntuArchives } from '../../src/fetch/archives/ubuntu-snapshot.js';
import { redactUrl } from '../../src/fetch/http-client.js';
import { encodeSegment } from '../../src/fetch/template.js';
import { SUITE, type ArchiveEvidence, type EvidenceOptions } from './archive-evidence.js';
import { checkImport, DatedTrees, describe, type Pending } from './dated-trees.js';
import type { InstalledDeb } from './dpkg-status.js';
import type { SourceEntry } from './sources.js';

export interface UbuntuEvidenceOptions extends EvidenceOptions {
  /** The `Date` of each of the root's release files, newest first: where to look when Launchpad cannot say. */
  releaseDates: () => Promise<Date[]>;
}

/** The service's first snapshot: an earlier time has no tree. */
const FIRST_SNAPSHOT = Date.UTC(2023, 2, 1);
const HOUR = 3600_000;

/** The suites to look in: the publication's own, the root's, then the codename's pockets. */
export function ubuntuSuites(codename: string | undefined, sources: SourceEntry[], own: string[] = []): string[] {
  const listed = sources.filter((s) => s.types.includes('deb')).flatMap((s) => s.suites);
  const pockets = codename ? [codename, `${codename}-updates`, `${codename}-security`, `${codename}-proposed`] : [];
  return [...new Set([...own, ...listed, ...pockets])].filter((s) => SUITE.test(s) && !s.includes('..'));
}

/**
 * The snapshot times to ask for one publication, most likely first; none when it was superseded before
 * the service's first snapshot (no tree of the service ever listed it).
 */
export function publicationTimes(p: Publication, now = Date.now()): string[] {
  const at = (p.published ?? p.created)?.getTime();
  const gone = p.superseded?.getTime();
  if (gone !== undefined && gone <= FIRST_SNAPSHOT) return [];
  const out: number[] = [];
  if (at !== undefined) out.push(Math.max(at + HOUR, FIRST_SNAPSHOT));
  if (gone !== undefined && (at === undefined || gone > at)) out.push(gone - 1000);
  // A publication of the last hour: the newest tree.
  return [...new Set(out.map((t) => snapshotTimestamp(new Date(Math.min(t, now)).toISOString())!))];
}

interface Item extends Pending {
  suites: string[];
  launchpadFailed?: boolean;
}

/** Looks the packages up on Launchpad and in the Ubuntu snapshot service; pins those with signed evidence. */
export async function pinFromUbuntuSnapshot(missing: InstalledDeb[], o: UbuntuEvidenceOptions): Promise<ArchiveEvidence> {
  const urls = o.archive.archiveUrls;
  const snapBase = archiveBase('ubuntu', UBUNTU_SNAPSHOT_NAME, urls);
  const api = launchpadApiRoot(archiveBase('ubuntu', LAUNCHPAD_NAME, urls));
  const http: PoliteOptions = { timeoutMs: o.archive.timeoutMs, retries: o.archive.retries, signal: o.signal };
  const trees = new DatedTrees((archive, ts) => `${snapBase}/${encodeSegment(archive)}/${ts}`, http, o);
  o.log.info(`${missing.length} installed package(s) are in no apt list; looking them up on Launchpad ${redactUrl(api)} and in the Ubuntu snapshot service ${redactUrl(snapBase)}`);

  const items: Item[] = missing.map((pkg) => ({ pkg, files: new Map(), notes: [], suites: [] }));
  /** `archive ts` -> the packages to look for in that dated tree. */
  const dated = new Map<string, Item[]>();
  const add = (archive: string, ts: string, item: Item) => {
    const key = `${archive} ${ts}`;
    const list = dated.get(key) ?? [];
    if (!list.includes(item)) list.push(item);
    dated.set(key, list);
  };
  let fallback: Promise<string[]> | undefined;
  const fallbackTimes = () =>
    (fallback ??= o
      .releaseDates()
      .catch(() => [] as Date[])
      .then((dates) => [...new Set(dates.slice(0, 3).map((d) => snapshotTimestamp(d.toISOString())!))]));

  const limit = pLimit(4);
  await Promise.all(
    items.map((item) =>
      limit(async () => {
        const { name, version } = item.pkg;
        const arch = item.pkg.arch === 'all' ? (o.nativeArch ?? 'amd64') : item.pkg.arch;
        const archive = ubuntuArchives(arch, o.nativeArch)[0];
        let times: string[] = [];
        try {
          const pubs = parsePublishedBinaries(await politeJson(publishedBinariesUrl(api, name, version), http)).filter((p) => p.name === name && p.version === version);
          if (pubs.length === 0) {
            item.kind = 'absent';
            item.notes.push("not in Ubuntu's primary archive (Launchpad has no publication of this version)");
            return;
          }
          const mine = pubs.filter((p) => p.arch === arch && (!o.codename || p.series === o.codename));
          item.suites = [...new Set(mine.map((p) => p.suite))];
          times = [...new Set(mine.flatMap((p) => publicationTimes(p)))];
          if (mine.length > 0 && times.length === 0) {
            item.kind = 'absent';
            item.notes.push("superseded before the Ubuntu snapshot service's first snapshot (1 March 2023), so no dated tree of it lists this version");
            return;
          }
          if (times.length === 0) item.notes.push(`Launchpad has no ${[o.codename, arch].filter(Boolean).join(' ')} publication of this version`);
        } catch (e) {
          item.launchpadFailed = true;
          item.notes.push(`Launchpad lookup failed: ${describe(e)}`);
        }
        if (times.length === 0) times = await fallbackTimes();
        if (times.length === 0) {
          item.kind = item.launchpadFailed ? 'unavailable' : 'absent';
          item.notes.push('no date to look for it at (nor the root release files)');
          return;
        }
        for (const ts of times) add(archive, ts, item);
      }),
    ),
  );

  const failed = items.filter((i) => i.launchpadFailed).length;
  if (failed) o.log.warn(`Launchpad could not say when ${failed} package(s) were published (reasons below if they stay unpinned); looking at the dates of the root's release files instead`);
  const keys = [...dated.keys()].sort();
  if (keys.length) o.log.info(`Ubuntu snapshot service: ${keys.length} dated tree(s) for ${new Set(keys.flatMap((k) => dated.get(k)!)).size} package(s)`);
  for (const key of keys) {
    const [archive, ts] = key.split(' ');
    const group = dated.get(key)!;
    const own = [...new Set(group.flatMap((i) => i.suites))];
    await checkImport(trees, archive, ts, ubuntuSuites(o.codename, o.sources, own), group, o);
  }

  const out: ArchiveEvidence = { pinned: [], unpinned: [] };
  for (const item of items) {
    if (item.entry) {
      out.pinned.push({ pkg: item.pkg, entry: item.entry });
      continue;
    }
    // Without Launchpad's date the tree asked was a guess: trying later may find it.
    if (item.launchpadFailed && item.kind === 'unlisted') item.kind = 'unavailable';
    out.unpinned.push({ pkg: item.pkg, kind: item.kind ?? 'unlisted', reason: item.notes.join('; ') });
  }
  if (out.pinned.length) o.log.info(`Ubuntu snapshot service: pinned ${out.pinned.length} of ${missing.length} package(s) from signed dated indexes`);
  return out;
}
