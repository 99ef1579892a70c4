/**
 * Signed evidence, from the Debian snapshot archive, for installed packages whose version the live apt
 * lists no longer carry (the mirrors moved on). For each such package:
 *  1. `mr/binary/<name>/<version>/binfiles?fileinfo=1` names its file by SHA-1, with the archive it was
 *     seen in (debian, debian-security) and its `first_seen` import (the JSON is described, and parsed, in
 *     src/fetch/archives/debian-snapshot-api.ts);
 *  2. the dated tree `archive/<archive>/<first_seen>/dists/<suite>/InRelease` is verified with the root's
 *     own keys (keys.ts: the sources' Signed-By, else apt's trusted keyrings), as the live lists are;
 *  3. a Packages index of that tree (xz, gz or plain) must match the signed Release; its stanza with the
 *     installed Package, Version and Architecture gives the SHA256 and Filename that are pinned. The
 *     stanza's SHA1 (Debian's indexes dropped that field; other repositories keep it), else its Size, must
 *     agree with the file the API named: another build of the same version is not the installed one.
 * `first_seen` is when the file reached the pool, not when a suite listed it (metasnap.debian.net, "How
 * does it work?"): at that import a stable update is listed in <codename>-proposed-updates or -security,
 * a release's original version in unstable; so those suites are tried beside the root's own.
 * What no signed index lists is not pinned.
 */
import pLimit from 'p-limit';
import { PingetError } from '../../src/errors.js';
import { archiveBase } from '../../src/fetch/archives/index.js';
import { DEBIAN_SNAPSHOT_NAME } from '../../src/fetch/archives/debian-snapshot.js';
import { parseBinfiles } from '../../src/fetch/archives/debian-snapshot-api.js';
import { politeJson, type PoliteOptions } from '../../src/fetch/archives/polite.js';
import { redactUrl } from '../../src/fetch/http-client.js';
import { encodeSegment } from '../../src/fetch/template.js';
import type { ProviderContext } from '../../src/fetch/types.js';
import type { LockEntry } from '../../src/lockfile.js';
import type { Logger } from '../../src/ui/log.js';
import type { UnpinnedKind } from '../../src/distro/missing.js';
import { checkImport, DatedTrees, describe, type Pending } from './dated-trees.js';
import type { InstalledDeb } from './dpkg-status.js';
import type { KeyResolver } from './keys.js';
import type { SourceEntry } from './sources.js';

export { findStanzas, judgeStanza } from './dated-trees.js';

export interface Unpinned {
  pkg: InstalledDeb;
  kind: UnpinnedKind;
  reason: string;
}

export interface ArchiveEvidence {
  pinned: Array<{ pkg: InstalledDeb; entry: LockEntry }>;
  unpinned: Unpinned[];
}

export interface EvidenceOptions {
  codename?: string;
  /** dpkg's native architecture: where `Architecture: all` packages are listed. */
  nativeArch?: string;
  sources: SourceEntry[];
  keys: KeyResolver;
  archive: ProviderContext;
  log: Logger;
  signal?: AbortSignal;
}

const ARCHIVES = ['debian', 'debian-security'];
export const SUITE = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9._-]+)*$/;

/** The suites to look for a package in, per archive: the root's own first, then the codename's usual ones. */
export function suitesFor(archive: string, codename: string | undefined, sources: SourceEntry[]): string[] {
  const listed = sources.filter((s) => s.types.includes('deb')).flatMap((s) => s.suites);
  // unstable last: a version first seen there (before it migrated to testing, later a release) is listed
  // nowhere else at its first import.
  const extra = [...(codename ? [codename, `${codename}-updates`, `${codename}-proposed-updates`, `${codename}-security`] : []), 'unstable'];
  const security = (s: string) => /-security$|\/updates$/.test(s);
  return [...new Set([...listed, ...extra])].filter((s) => SUITE.test(s) && !s.includes('..') && (archive === 'debian-security') === security(s));
}

/** Looks the packages up in the snapshot archive and pins those with signed evidence. */
export async function pinFromSnapshot(missing: InstalledDeb[], o: EvidenceOptions): Promise<ArchiveEvidence> {
  const base = archiveBase('debian', DEBIAN_SNAPSHOT_NAME, o.archive.archiveUrls);
  const http: PoliteOptions = { timeoutMs: o.archive.timeoutMs, retries: o.archive.retries, signal: o.signal };
  const trees = new DatedTrees((archive, ts) => `${base}/archive/${encodeSegment(archive)}/${ts}`, http, o);
  o.log.info(`${missing.length} installed package(s) are in no apt list; looking them up in the Debian snapshot archive ${redactUrl(base)}`);

  const pending: Pending[] = missing.map((pkg) => ({ pkg, files: new Map(), notes: [] }));
  /** `archive ts` -> the packages whose file was first seen in that import. */
  const imports = new Map<string, Pending[]>();
  const limit = pLimit(4);
  await Promise.all(
    pending.map((item) =>
      limit(async () => {
        const { name, version, arch } = item.pkg;
        const url = `${base}/mr/binary/${encodeSegment(name)}/${encodeSegment(version)}/binfiles?fileinfo=1`;
        let json: unknown;
        try {
          json = await politeJson(url, http);
        } catch (e) {
          const absent = e instanceof PingetError && e.code === 'NOT_FOUND';
          item.kind = absent ? 'absent' : 'unavailable';
          item.notes.push(absent ? 'not in the snapshot archive' : `snapshot archive lookup failed: ${describe(e)}`);
          return;
        }
        const files = parseBinfiles(json).filter((f) => f.architecture === arch);
        if (files.length === 0) {
          item.kind = 'absent';
          item.notes.push(`the snapshot archive has no ${arch} file of this version`);
          return;
        }
        for (const f of files) {
          item.files.set(f.sha1, f.size ?? item.files.get(f.sha1));
          if (!f.firstSeen || !ARCHIVES.includes(f.archive)) continue;
          const key = `${f.archive} ${f.firstSeen}`;
          const list = imports.get(key) ?? [];
          if (!list.includes(item)) list.push(item);
          imports.set(key, list);
        }
      }),
    ),
  );

  const keys = [...imports.keys()].sort();
  for (const archive of ARCHIVES) {
    const mine = keys.filter((k) => k.startsWith(`${archive} `));
    if (mine.length === 0) continue;
    const count = new Set(mine.flatMap((k) => imports.get(k)!)).size;
    o.log.info(`snapshot archive ${archive}: ${mine.length} dated import(s) for ${count} package(s)`);
    for (const key of mine) await checkImport(trees, archive, key.slice(archive.length + 1), suitesFor(archive, o.codename, o.sources), imports.get(key)!, o);
  }

  const out: ArchiveEvidence = { pinned: [], unpinned: [] };
  for (const item of pending) {
    if (item.entry) {
      out.pinned.push({ pkg: item.pkg, entry: item.entry });
      continue;
    }
    if (!item.kind && item.notes.length === 0) item.notes.push('the snapshot archive names no dated import of its file in debian or debian-security');
    out.unpinned.push({ pkg: item.pkg, kind: item.kind ?? 'unlisted', reason: item.notes.join('; ') });
  }
  if (out.pinned.length) o.log.info(`snapshot archive: pinned ${out.pinned.length} of ${missing.length} package(s) from signed dated indexes`);
  return out;
}

