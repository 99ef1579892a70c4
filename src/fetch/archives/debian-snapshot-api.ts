/**
 * Pure parts of the Debian snapshot archive's machine-readable API (no I/O).
 *
 * Format (snapshot's API document, salsa.debian.org/snapshot-team/snapshot, file API):
 *   GET /mr/binary/<binary>/<binaryversion>/binfiles?fileinfo=1
 *   { "binary": "hello", "binary_version": "2.10-2",
 *     "result":   [ { "architecture": "amd64", "hash": "<sha1>" }, ... ],
 *     "fileinfo": { "<sha1>": [ { "name": "hello_2.10-2_amd64.deb", "archive_name": "debian",
 *                                 "path": "/pool/main/h/hello", "first_seen": "20190328T102712Z",
 *                                 "size": 56132 }, ... ] } }
 *   GET /file/<sha1>                                   -> the bytes
 *   GET /archive/<archive_name>/<timestamp>/<path>     -> the archive as it was at that time
 *                                                         (redirected to the nearest earlier import)
 * Older servers wrote `run` where newer ones write `first_seen`; both are read.
 * Everything in an answer is untrusted: names are checked before they become URL parts.
 */
import { unsafePathReason } from '../../lockfile.js';
import type { PackageRef } from '../../distro/types.js';

export interface SnapshotFile {
  sha1: string;
  architecture: string;
  name: string;
  archive: string;
  /** Directory in the archive, without leading or trailing slash: `pool/main/h/hello`. */
  dir: string;
  /** Snapshot timestamp `YYYYMMDDTHHMMSSZ` when the file was first imported, when given. */
  firstSeen?: string;
  size?: number;
}

const SHA1 = /^[0-9a-f]{40}$/;
const ARCHIVE_NAME = /^[a-z0-9][a-z0-9.+-]*$/;
const TIMESTAMP = /^\d{8}T\d{6}Z$/;

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Every well-formed file of a binfiles?fileinfo=1 answer, one record per (hash, place it was seen). */
export function parseBinfiles(json: unknown): SnapshotFile[] {
  if (!json || typeof json !== 'object') return [];
  const doc = json as { result?: unknown; fileinfo?: unknown };
  const result = Array.isArray(doc.result) ? doc.result : [];
  const fileinfo = doc.fileinfo && typeof doc.fileinfo === 'object' ? (doc.fileinfo as Record<string, unknown>) : {};
  const out: SnapshotFile[] = [];
  for (const r of result) {
    const sha1 = str((r as { hash?: unknown })?.hash)?.toLowerCase();
    const architecture = str((r as { architecture?: unknown })?.architecture);
    if (!sha1 || !SHA1.test(sha1) || !architecture) continue;
    const infos = Array.isArray(fileinfo[sha1]) ? (fileinfo[sha1] as unknown[]) : [];
    for (const i of infos) {
      const info = (i ?? {}) as Record<string, unknown>;
      const name = str(info.name);
      const archive = str(info.archive_name);
      const dir = str(info.path)?.replace(/^\/+|\/+$/g, '');
      if (!name || name.includes('/') || unsafePathReason(name) || !archive || !ARCHIVE_NAME.test(archive) || !dir || unsafePathReason(dir)) continue;
      const seen = str(info.first_seen) ?? str(info.run);
      const size = typeof info.size === 'number' && Number.isSafeInteger(info.size) ? info.size : undefined;
      out.push({ sha1, architecture, name, archive, dir, firstSeen: seen && TIMESTAMP.test(seen) ? seen : undefined, size });
    }
    if (infos.length === 0) out.push({ sha1, architecture, name: '', archive: '', dir: '' });
  }
  return out;
}

/** The archive a Debian pool path belongs to: the security archive keeps its files under pool/updates/. */
export function debianArchiveForPath(path: string): string {
  return path.startsWith('pool/updates/') ? 'debian-security' : 'debian';
}

/**
 * The files that can be the lockfile's entry, best first: the package's architecture only; among
 * them, the same file name in the same directory, then the same file name, then the rest.
 * Each sha1 appears once, with its best-matching place.
 */
export function pickCandidates(files: SnapshotFile[], ref: PackageRef, path: string): SnapshotFile[] {
  const slash = path.lastIndexOf('/');
  const base = path.slice(slash + 1);
  const dir = path.slice(0, slash);
  const archive = debianArchiveForPath(path);
  const score = (f: SnapshotFile) => (f.name === base ? 2 : 0) + (f.dir === dir ? 2 : 0) + (f.archive === archive ? 1 : 0);
  const ranked = files
    .filter((f) => f.architecture === ref.arch)
    .map((f, i) => ({ f, s: score(f), i }))
    .sort((a, b) => b.s - a.s || a.i - b.i);
  const seen = new Set<string>();
  const out: SnapshotFile[] = [];
  for (const { f } of ranked) {
    if (seen.has(f.sha1)) continue;
    seen.add(f.sha1);
    out.push(f);
  }
  return out;
}

/**
 * name, version and arch from a pool file name (`hello_2.10-2_amd64.deb`), for targets the adapter
 * could not inspect. The epoch is not in file names, so a version with one cannot be recovered here.
 */
export function refFromDebPath(path: string): PackageRef | undefined {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const m = /^([a-z0-9][a-z0-9+.-]*)_([^_]+)_([a-z0-9-]+)\.u?deb$/.exec(base);
  if (!m) return undefined;
  return { name: m[1], version: m[2].replace(/%3a/gi, ':'), arch: m[3] };
}
