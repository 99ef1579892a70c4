/**
 * Content checks of an apk root:
 *  - `hash verify --deep`: every installed file against its `Z:` checksum in /lib/apk/db/installed (apk
 *    audit's check, done here because apk-tools is rarely on the host that mounts the root). Files under
 *    etc/ are apk's protected configuration (it keeps edits and writes `.apk-new`), so they are not drift;
 *  - build drift: the installed `C:` identity against the pinned one — the cached pinned .apk's control
 *    member, else the lockfile's `apk-identity` header — so a lockfile hash naming another build of the
 *    installed version does not pass as installed.
 */
import { createHash } from 'node:crypto';
import { lstat, readFile, readlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { resolveInRoot } from '../../src/root-path.js';
import { reasonOf } from '../../src/errors.js';
import type { Logger } from '../../src/ui/log.js';
import type { BuildDrift, FileDrift, PinnedInstalled } from '../../src/distro/types.js';
import { parseApk } from './apk-file.js';
import { installedDbFile, readInstalled } from './generate.js';
import { IDENTITY_HEADER, identityFor, parseIdentityHeader } from './identity-header.js';
import { adbPackageIdentity, isAdb } from './adb-package.js';
import { parseInstalledFiles } from './installed-files.js';

async function checksumOnDisk(file: string, kind: 'Q1' | 'Q2'): Promise<string | 'missing'> {
  const st = await lstat(file).catch(() => undefined);
  if (!st) return 'missing';
  const h = createHash(kind === 'Q1' ? 'sha1' : 'sha256');
  h.update(st.isSymbolicLink() ? Buffer.from(await readlink(file)) : await readFile(file));
  return kind + h.digest('base64');
}

export async function verifyAlpineFiles(root: string, pinned: PinnedInstalled[], opts: { log: Logger }): Promise<FileDrift[]> {
  const files = parseInstalledFiles(await readFile(installedDbFile(root), 'utf8'));
  const drift: FileDrift[] = [];
  for (const p of pinned) {
    for (const f of files.get(p.ref.name) ?? []) {
      if (f.path.startsWith('etc/')) continue;
      const kind = f.checksum?.slice(0, 2);
      if (kind !== 'Q1' && kind !== 'Q2') {
        opts.log.verbose(`${p.ref.name}: /${f.path} has no checksum in the apk database; not checked`);
        continue;
      }
      // the parent followed inside the root (a /lib -> /usr/lib link is the root's); the file itself as it is (apk sums a symlink's target text)
      const got = await checksumOnDisk(join(resolveInRoot(root, dirname(f.path)), basename(f.path)), kind);
      if (got === 'missing') drift.push({ package: p.ref.name, path: `/${f.path}`, reason: 'missing' });
      else if (got !== f.checksum) drift.push({ package: p.ref.name, path: `/${f.path}`, reason: `content differs from the apk database's checksum (${f.checksum})` });
    }
  }
  return drift.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export async function alpineBuildDrift(root: string, pinned: PinnedInstalled[], headers: Record<string, string>, log: Logger): Promise<BuildDrift[]> {
  const installed = new Map((await readInstalled(root)).map((r) => [`${r.name}\0${r.version}`, r.identity]));
  let header: Map<string, string>;
  try {
    header = parseIdentityHeader(headers[IDENTITY_HEADER]);
  } catch {
    header = new Map();
  }
  const out: BuildDrift[] = [];
  for (const p of pinned) {
    const have = installed.get(`${p.ref.name}\0${p.ref.version}`);
    let want = identityFor(header, p.entry.path);
    if (p.file) {
      try {
        const bytes = await readFile(p.file);
        // apk 3 records a v3 package's C: as its ADB block's SHA-256 cut to 160 bits
        want = isAdb(bytes) ? `Q1${adbPackageIdentity(bytes).subarray(0, 20).toString('base64')}` : (await parseApk(bytes)).identity;
      } catch (e) {
        log.warn(`${p.file}: the cached ${p.entry.path} is not a readable apk (${reasonOf(e)})`);
      }
    }
    if (have && want && have !== want) {
      out.push({ ref: p.ref, path: p.entry.path, reason: `the installed build is C:${have}, the pinned file's is ${want}` });
    }
  }
  return out;
}
