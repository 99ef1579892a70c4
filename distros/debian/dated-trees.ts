/**
 * The dated trees of a snapshot service (Debian's snapshot archive, Ubuntu's snapshot service), checked as
 * apt checks the live lists: a dated suite's InRelease (or Release + Release.gpg) verified with the root's
 * own keys (keys.ts: the sources' Signed-By, else apt's trusted keyrings); a Packages index (xz, gz or
 * plain) taken only when it matches that signed release; the stanza with the installed Package, Version
 * and Architecture giving the SHA256 and Filename that are pinned. Which dates and suites to look at is
 * each service's part (archive-evidence.ts for Debian, ubuntu-evidence.ts for Ubuntu).
 */
import { PingetError } from '../../src/errors.js';
import { decompress } from '../../src/decompress.js';
import { politeBytes, type PoliteOptions } from '../../src/fetch/archives/polite.js';
import { redactUrl } from '../../src/fetch/http-client.js';
import { encodePath } from '../../src/fetch/template.js';
import { unsafePathReason, type LockEntry } from '../../src/lockfile.js';
import type { Logger } from '../../src/ui/log.js';
import { verifyCleartext, verifyDetached, type PublicKey } from '../../src/verify/openpgp.js';
import { sha256Bytes } from '../../src/verify/sha256.js';
import type { UnpinnedKind } from '../../src/distro/missing.js';
import { parseParagraphs } from './deb822.js';
import type { InstalledDeb } from './dpkg-status.js';
import type { KeyResolver } from './keys.js';
import { parseRelease, type ReleaseFile } from './release.js';
import type { SourceEntry } from './sources.js';

const RELEASE_MAX = 16 << 20;
const INDEX_EXTS = ['.xz', '.gz', ''];

/** The stanzas of `name` in a decompressed Packages index, as field maps (lowercased names). */
export function findStanzas(text: string, name: string): Map<string, string>[] {
  const needle = `Package: ${name}\n`;
  const out: Map<string, string>[] = [];
  let i = text.startsWith(needle) ? 0 : text.indexOf(`\n${needle}`) + 1;
  while (i > 0 || (i === 0 && text.startsWith(needle))) {
    let end = text.indexOf('\n\n', i);
    if (end < 0) end = text.length;
    try {
      const [p] = parseParagraphs(text.slice(i, end));
      if (p) out.push(p.fields);
    } catch {
      // a malformed stanza is no evidence
    }
    const next = text.indexOf(`\n${needle}`, end);
    if (next < 0) break;
    i = next + 1;
  }
  return out;
}

export interface Pending {
  pkg: InstalledDeb;
  /** SHA-1 of each file the API names for this architecture -> its size when given. */
  files: Map<string, number | undefined>;
  notes: string[];
  kind?: UnpinnedKind;
  entry?: LockEntry;
}

/** The stanza's entry, or why it is not evidence for this package's file. */
export function judgeStanza(st: Map<string, string>, files: Map<string, number | undefined>, where: string): LockEntry | string {
  const sha256 = st.get('sha256')?.toLowerCase();
  const filename = st.get('filename');
  if (!sha256 || !/^[0-9a-f]{64}$/.test(sha256) || !filename || !filename.startsWith('pool/') || unsafePathReason(filename)) {
    return `${where}: its stanza has no usable SHA256 and Filename`;
  }
  // An empty `files` is a service that names no file (Ubuntu's): the signed index alone is the evidence.
  if (files.size === 0) return { sha256, path: filename };
  const sha1 = st.get('sha1')?.toLowerCase();
  if (sha1) {
    if (!files.has(sha1)) return `${where} lists SHA1 ${sha1}, the archive's file is ${[...files.keys()].join(' or ')}: another build`;
  } else {
    const sizes = [...files.values()].filter((s): s is number => s !== undefined);
    const size = Number(st.get('size'));
    if (sizes.length > 0 && !sizes.includes(size)) return `${where} lists Size ${st.get('size')}, the archive's file has ${sizes.join(' or ')}: another build`;
  }
  return { sha256, path: filename };
}

/** What a dated tree's release is checked with: the root's sources (their Signed-By) and keyrings. */
export interface TreeKeys {
  sources: SourceEntry[];
  keys: KeyResolver;
}

/**
 * Dated trees of one run: release files and the key sets to check them, fetched once each. `treeUrl`
 * names the root of one archive's tree at one date (the part before `dists/`), as each service lays it out.
 */
export class DatedTrees {
  private readonly releases = new Map<string, Promise<{ release: ReleaseFile; where: string } | undefined>>();
  private readonly keySets = new Map<string, Promise<PublicKey[]>>();

  constructor(
    private readonly treeUrl: (archive: string, ts: string) => string,
    private readonly http: PoliteOptions,
    private readonly o: TreeKeys,
  ) {}

  dir(archive: string, ts: string, suite: string): string {
    return `${this.treeUrl(archive, ts)}/dists/${encodePath(suite)}`;
  }

  /** The keys apt would use for a suite: its sources' Signed-By; for a suite no source names, all of the root's. */
  private keysFor(suite: string): Promise<PublicKey[]> {
    let p = this.keySets.get(suite);
    if (!p) {
      p = (async () => {
        const debs = this.o.sources.filter((s) => s.types.includes('deb'));
        const own = debs.filter((s) => s.suites.includes(suite));
        const sets = await Promise.all(
          [...(own.length ? own : debs).map((s) => ({ signedBy: s.signedBy, origin: s.origin })), ...(own.length ? [] : [{ signedBy: undefined, origin: '' }])].map(
            (s) => this.o.keys.keysFor(s.signedBy, s.origin).catch(() => [] as PublicKey[]),
          ),
        );
        const byFp = new Map(sets.flat().map((k) => [k.getFingerprint(), k]));
        return [...byFp.values()];
      })();
      this.keySets.set(suite, p);
    }
    return p;
  }

  /** The verified release file of a dated suite; undefined when the archive has no such suite then. */
  release(archive: string, ts: string, suite: string): Promise<{ release: ReleaseFile; where: string } | undefined> {
    const dir = this.dir(archive, ts, suite);
    let p = this.releases.get(dir);
    if (!p) {
      p = (async () => {
        const keys = await this.keysFor(suite);
        const inRelease = await this.get(`${dir}/InRelease`, RELEASE_MAX);
        if (inRelease) {
          const where = redactUrl(`${dir}/InRelease`);
          return { release: parseRelease(await verifyCleartext(inRelease.toString('utf8'), keys, where), where), where };
        }
        const release = await this.get(`${dir}/Release`, RELEASE_MAX);
        if (!release) return undefined;
        const where = redactUrl(`${dir}/Release`);
        const sig = await this.get(`${dir}/Release.gpg`, 1 << 20);
        if (!sig) throw new PingetError('INTEGRITY', `${where}: no InRelease nor Release.gpg, so it is unsigned`);
        await verifyDetached(release, sig, keys, `${where}.gpg`);
        return { release: parseRelease(release.toString('utf8'), where), where };
      })();
      this.releases.set(dir, p);
    }
    return p;
  }

  /** A Packages index of a verified release, decompressed, as text; undefined when the release lists none. */
  async index(dir: string, rel: { release: ReleaseFile; where: string }, relPath: string): Promise<string | undefined> {
    for (const ext of INDEX_EXTS) {
      const e = rel.release.sha256.get(`${relPath}${ext}`);
      if (!e) continue;
      const url = `${dir}/${relPath}${ext}`;
      let bytes: Buffer | undefined;
      try {
        bytes = await this.get(url, e.size);
      } catch (err) {
        // Longer than the signed size: altered, say so as such.
        if (err instanceof PingetError && err.code === 'INTEGRITY') throw new PingetError('INTEGRITY', `${redactUrl(url)}: more than the ${e.size} bytes the signed ${rel.where} lists`);
        throw err;
      }
      if (!bytes) continue;
      if (bytes.length !== e.size || sha256Bytes(bytes) !== e.sha256) {
        throw new PingetError('INTEGRITY', `${redactUrl(url)} does not match ${relPath}${ext} in the signed ${rel.where}`);
      }
      const text = (await decompress(bytes, `${relPath}${ext}`)).toString('latin1');
      return text.includes('\r\n') ? text.replace(/\r\n/g, '\n') : text;
    }
    return undefined;
  }

  private async get(url: string, max: number): Promise<Buffer | undefined> {
    try {
      return await politeBytes(url, max, this.http);
    } catch (e) {
      if (e instanceof PingetError && e.code === 'NOT_FOUND') return undefined;
      throw e;
    }
  }
}

/** The plain index paths (`main/binary-amd64/Packages`) a release has for an architecture, `first` component first. */
function indexPaths(release: ReleaseFile, arch: string, first: string): string[] {
  const re = new RegExp(`^(.+)/binary-${arch.replace(/[^a-z0-9-]/g, '')}/Packages(?:\\.xz|\\.gz)?$`);
  const comps = [...new Set([...release.sha256.keys()].map((k) => re.exec(k)?.[1]).filter((c): c is string => !!c))];
  comps.sort((a, b) => Number(b === first || b.endsWith(`/${first}`)) - Number(a === first || a.endsWith(`/${first}`)));
  return comps.map((c) => `${c}/binary-${arch}/Packages`);
}

export function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The size of the form of an index that would be fetched (the first of INDEX_EXTS the release lists). */
function fetchSize(release: ReleaseFile, relPath: string): number {
  for (const ext of INDEX_EXTS) {
    const e = release.sha256.get(`${relPath}${ext}`);
    if (e) return e.size;
  }
  return Number.MAX_SAFE_INTEGER;
}

/**
 * One dated import: every candidate suite's release first (small files), then, per package, the indexes
 * that could list it from the smallest up: a stable update is in the small -proposed-updates or -security
 * index at its import, and a whole suite's index is many times larger.
 */
export async function checkImport(trees: DatedTrees, archive: string, ts: string, suites: string[], items: Pending[], o: { nativeArch?: string; log: Logger }): Promise<void> {
  const releases = await Promise.all(
    suites.map(async (suite) => {
      try {
        const rel = await trees.release(archive, ts, suite);
        return rel ? { suite, rel } : undefined;
      } catch (e) {
        for (const i of items) if (!i.entry) fail(i, e);
        return undefined;
      }
    }),
  );
  const found = releases.filter((r): r is NonNullable<typeof r> => r !== undefined);
  const texts = new Map<string, Promise<string | undefined>>();
  for (const item of items) {
    if (item.entry) continue;
    const arch = item.pkg.arch === 'all' ? (o.nativeArch ?? 'all') : item.pkg.arch;
    const candidates = found
      .flatMap(({ suite, rel }) => indexPaths(rel.release, arch, item.pkg.component).map((relPath) => ({ suite, rel, relPath, size: fetchSize(rel.release, relPath) })))
      .sort((a, b) => a.size - b.size);
    for (const { suite, rel, relPath } of candidates) {
      const dir = trees.dir(archive, ts, suite);
      let text: string | undefined;
      try {
        let p = texts.get(`${dir}/${relPath}`);
        if (!p) texts.set(`${dir}/${relPath}`, (p = trees.index(dir, rel, relPath)));
        text = await p;
      } catch (e) {
        fail(item, e);
        continue;
      }
      const st = text ? findStanzas(text, item.pkg.name).find((f) => f.get('version') === item.pkg.version && f.get('architecture') === item.pkg.arch) : undefined;
      if (!st) continue;
      const verdict = judgeStanza(st, item.files, `${rel.where} ${relPath}`);
      if (typeof verdict === 'string') {
        item.kind = 'tampered';
        item.notes.push(verdict);
      } else {
        item.entry = verdict;
        o.log.verbose(`${item.pkg.name}=${item.pkg.version}: pinned from ${rel.where} (${relPath})`);
      }
      break;
    }
  }
  const tried = found.map((r) => r.suite).join(', ') || 'none';
  for (const i of items) {
    if (i.entry || i.kind === 'tampered' || i.kind === 'unavailable') continue;
    i.kind = 'unlisted';
    i.notes.push(`no signed index of ${archive} at ${ts} lists it (suites with a release then: ${tried})`);
  }
}

export function fail(item: Pending, e: unknown): void {
  const integrity = e instanceof PingetError && (e.code === 'INTEGRITY' || e.code === 'BAD_INPUT');
  if (integrity) item.kind = 'tampered';
  else if (item.kind !== 'tampered') item.kind = 'unavailable';
  item.notes.push(describe(e));
}
