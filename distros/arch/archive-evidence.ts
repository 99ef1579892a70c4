/**
 * Installed Arch packages that no sync database nor the cache dir has: looked up in the Arch Linux
 * Archive, `packages/<first letter>/<name>/<name>-<version>-<arch>.pkg.tar.{zst,xz}` with its detached
 * `.sig` (https://wiki.archlinux.org/title/Arch_Linux_Archive). A file is pinned only when its signature
 * verifies against the root's pacman keyring and its `.PKGINFO` names the installed package (name,
 * version, arch and build date of the local database): then the sha256 is that verified file's.
 */
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import pLimit from 'p-limit';
import tar from 'tar-stream';
import { decompress } from '../../src/decompress.js';
import { PingetError } from '../../src/errors.js';
import { ARCH_ARCHIVE_NAME } from '../../src/fetch/archives/arch.js';
import { archiveBase } from '../../src/fetch/archives/index.js';
import { politeBytes, type PoliteOptions } from '../../src/fetch/archives/polite.js';
import { redactUrl } from '../../src/fetch/http-client.js';
import { encodeSegment } from '../../src/fetch/template.js';
import type { LockEntry } from '../../src/lockfile.js';
import { sha256Bytes } from '../../src/verify/sha256.js';
import { reportUnpinned, type UnpinnedItem } from '../../src/distro/missing.js';
import type { GenerateOptions } from '../../src/distro/types.js';
import type { PacmanPackage } from './desc.js';
import { archivePath } from './paths.js';
import { verifyDetachedSig, type Keyring } from './signatures.js';

const SIG_MAX = 64 << 10;
/** A bound on one package read into memory (the signature check needs it whole). */
const PACKAGE_MAX = 2 ** 31 - 1;
const EXTS = ['.pkg.tar.zst', '.pkg.tar.xz'];

/** `key = value` lines of a .PKGINFO (makepkg's write_pkginfo); repeated keys keep their first value. */
export function parsePkginfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([a-z0-9_]+) = (.*)$/.exec(line.trim());
    if (m && !(m[1] in out)) out[m[1]] = m[2];
  }
  return out;
}

/** The .PKGINFO of a package file (the first members of the archive), without unpacking the rest. */
async function readPkginfo(data: Buffer, file: string): Promise<Record<string, string> | undefined> {
  const stream = file.endsWith('.zst') ? Readable.from([data]).pipe(zlib.createZstdDecompress()) : Readable.from([await decompress(data, file)]);
  const extract = tar.extract();
  stream.on('error', (e) => extract.destroy(e));
  stream.pipe(extract);
  try {
    for await (const entry of extract) {
      if (entry.header.name.replace(/^\.\//, '') !== '.PKGINFO') {
        entry.resume();
        continue;
      }
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      return parsePkginfo(Buffer.concat(chunks).toString('utf8'));
    }
  } finally {
    stream.destroy();
    extract.destroy();
  }
  return undefined;
}

/** Why the .PKGINFO is not the installed package's, or undefined when it is. */
export function pkginfoMismatch(info: Record<string, string>, pkg: PacmanPackage): string | undefined {
  if (info.pkgname !== pkg.name || info.pkgver !== pkg.version || info.arch !== pkg.arch) {
    return `its .PKGINFO is ${info.pkgname} ${info.pkgver} ${info.arch}, not the installed ${pkg.name} ${pkg.version} ${pkg.arch}`;
  }
  if (pkg.builddate && Number(info.builddate) !== pkg.builddate) {
    return `its .PKGINFO builddate ${info.builddate} is not the installed package's ${pkg.builddate}: another build`;
  }
  return undefined;
}

interface Outcome {
  entry?: LockEntry;
  item?: UnpinnedItem;
}

async function lookUp(pkg: PacmanPackage, base: string, http: PoliteOptions, keys: () => Promise<Keyring>): Promise<Outcome> {
  const name = `${pkg.name} ${pkg.version} (${pkg.arch})`;
  const ref = { name: pkg.name, arch: pkg.arch };
  for (const ext of EXTS) {
    const file = `${pkg.name}-${pkg.version}-${pkg.arch}${ext}`;
    const url = `${base}/packages/${encodeSegment(pkg.name[0])}/${encodeSegment(pkg.name)}/${encodeSegment(file)}`;
    try {
      let sig: Buffer;
      try {
        sig = await politeBytes(`${url}.sig`, SIG_MAX, http);
      } catch (e) {
        if (e instanceof PingetError && e.code === 'NOT_FOUND') continue;
        throw e;
      }
      const data = await politeBytes(url, PACKAGE_MAX, http);
      await verifyDetachedSig(data, sig, await keys(), redactUrl(`${url}.sig`));
      const info = await readPkginfo(data, file);
      const wrong = info ? pkginfoMismatch(info, pkg) : 'it has no .PKGINFO';
      if (wrong) return { item: { name, kind: 'tampered', reason: `${redactUrl(url)}: ${wrong}`, ref } };
      return { entry: { sha256: sha256Bytes(data), path: archivePath(pkg.name, file) } };
    } catch (e) {
      const integrity = e instanceof PingetError && (e.code === 'INTEGRITY' || e.code === 'BAD_INPUT');
      const msg = e instanceof Error ? e.message : String(e);
      if (integrity) return { item: { name, kind: 'tampered', reason: msg, ref } };
      return { item: { name, kind: e instanceof PingetError && e.code === 'NOT_FOUND' ? 'absent' : 'unavailable', reason: msg, ref } };
    }
  }
  return { item: { name, kind: 'absent', reason: 'not in the Arch Linux Archive', ref } };
}

/**
 * Pins what the archive vouches for (unless --offline), reports the rest: an error naming each package
 * and why, or with --allow-missing a warning. `keys` loads the root's pacman keyring.
 */
export async function resolveArchMissing(missing: PacmanPackage[], opts: GenerateOptions, keys: () => Promise<Keyring>, cacheDir: string): Promise<LockEntry[]> {
  if (missing.length === 0) return [];
  if (opts.offline || !opts.archive) {
    reportUnpinned(
      opts,
      missing.map((p) => ({ name: `${p.name} ${p.version} (${p.arch})`, kind: 'absent', reason: 'in no sync database nor the cache dir', ref: { name: p.name, arch: p.arch } })),
      `the sync databases no longer list these versions: run without --offline to look them up in the Arch Linux Archive, or keep their files in ${cacheDir}, or pass --allow-missing`,
    );
    return [];
  }
  const base = archiveBase('arch', ARCH_ARCHIVE_NAME, opts.archive.archiveUrls);
  const http: PoliteOptions = { timeoutMs: opts.archive.timeoutMs, retries: opts.archive.retries };
  opts.log.info(`${missing.length} installed package(s) are in no sync database nor the cache dir; looking them up in the Arch Linux Archive ${redactUrl(base)}`);
  const limit = pLimit(2);
  const outcomes = await Promise.all(missing.map((p) => limit(() => lookUp(p, base, http, keys))));
  const pinned = outcomes.flatMap((o) => (o.entry ? [o.entry] : []));
  if (pinned.length) opts.log.info(`Arch Linux Archive: pinned ${pinned.length} of ${missing.length} package(s) by their verified signatures`);
  reportUnpinned(
    opts,
    outcomes.flatMap((o) => (o.item ? [o.item] : [])),
    'pass --allow-missing to leave them out, or --archive-url arch-archive=URL for an archive that has them',
  );
  return pinned;
}
