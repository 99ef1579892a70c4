/**
 * `lock` for Alpine and Wolfi: package names -> what `apk add` of them would change on the base. pinget fetches
 * and checks each repository's APKINDEX (lock-repos.ts), apk chooses (apk-resolve.ts), and since an index names
 * no sha256 of a package file, each chosen .apk is downloaded through the fetch chain (the cache first), proven to
 * be the package its index record names (the `C:` identity of its control segment, the datahash of its data) and
 * hashed. The lockfile lines and the `apk-identity` header are those `hash generate` writes.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PingetError, reasonOf } from '../../src/errors.js';
import { readOsRelease } from '../../src/distro/os-release.js';
import type { LockEntry } from '../../src/lockfile.js';
import type { PackageRef, ResolveRequest, ResolveResult } from '../../src/distro/types.js';
import { formatManual } from '../../src/manual-marks.js';
import { resolveInRoot } from '../../src/root-path.js';
import type { ApkRecord } from './apk-db.js';
import type { AdbIndexRecord } from './adb-index.js';
import { adbPackageIdentity, isAdb, readAdbPackageInfo } from './adb-package.js';
import { APK_HINT, startApkChoose, type Change } from './apk-resolve.js';
import { installedDbFile, readApkArch, readInstalled, readRepositories, snapshotOf } from './generate.js';
import { formatIdentityHeader, IDENTITY_HEADER } from './identity-header.js';
import { requireApk3 } from './install-check.js';
import { fetchIndexes, readIndexes, type LockRepo } from './lock-repos.js';
import { worldName } from './manual-marks.js';
import { apkPath, inspectApkPath } from './paths.js';
import { checkIdentity } from './resign.js';
import { identityOfHash, v3Location } from './v3-repo.js';
import { loadApkKeys } from './signature.js';

/** An apk dependency as `apk add` takes it: name, name=version (or <, >, ~), name@tag, cmd:x, so:x; no files. */
const APK_DEP = /^[A-Za-z0-9_+][A-Za-z0-9_.+:@<>=~-]*$/;

export function checkDeps(names: string[]): void {
  const bad = names.filter((n) => !APK_DEP.test(n) || n.length > 256);
  if (bad.length) throw new PingetError('USAGE', `not an apk dependency (name, name=version, name@tag, cmd:x, so:x): ${bad.slice(0, 3).map((b) => JSON.stringify(b.slice(0, 80))).join(', ')}`);
}

interface Pin {
  ref: PackageRef;
  path: string;
  /** The `C:` identity apk records on install (v3: `Q1` + base64 of the first 20 bytes of `hashes`). */
  identity: string;
  /** A v3 package: apk 3's `hashes`, hex (SHA-256 of the package's ADB block). */
  v3?: string;
  bases: string[];
}

/** A v3 package file is the one its Packages.adb record names: its ADB block hashes to the record's `hashes`. */
async function checkAdbIdentity(path: string, file: string, hash: string): Promise<void> {
  const bytes = await readFile(file);
  const reject = (why: string): never => {
    throw new PingetError('INTEGRITY', `${path}: not the package the repository index names: ${why}`);
  };
  if (!isAdb(bytes)) reject('not an apk v3 (ADB) package');
  let own: string;
  let info;
  try {
    own = adbPackageIdentity(bytes).toString('hex');
    info = readAdbPackageInfo(bytes);
  } catch (e) {
    return reject(`not an apk v3 package (${reasonOf(e)})`);
  }
  if (own !== hash) reject(`its ADB block has sha256 ${own}, the index names ${hash}`);
  const ref = inspectApkPath(path);
  if (ref && (ref.name !== info.name || ref.version !== info.version)) reject(`it is ${info.name}-${info.version}`);
}

/** A repository's index with the records of apk's chosen names by `name version` (the first of each, as apk's own order has it). */
type Indexed = LockRepo & { byNameVersion: Map<string, ApkRecord> };

function indexed(repos: LockRepo[], names: Set<string>): Indexed[] {
  return repos.map((r) => {
    const byNameVersion = new Map<string, ApkRecord>();
    for (const p of r.index.records) {
      if (!names.has(p.name)) continue;
      const key = `${p.name} ${p.version}`;
      if (!byNameVersion.has(key)) byNameVersion.set(key, p);
    }
    return { ...r, byNameVersion };
  });
}

/** Whether a repository has a record of `rec`'s name and version that `same` accepts (its first is usually it). */
function sameRecord(r: Indexed, rec: ApkRecord, same: (p: ApkRecord) => boolean): boolean {
  const first = r.byNameVersion.get(`${rec.name} ${rec.version}`);
  if (!first) return false;
  return same(first) || r.index.records.some((p) => p.name === rec.name && p.version === rec.version && same(p));
}

/** Where apk's choice is: every repository whose index has that package (same identity), for one lockfile path. */
function locate(c: Change, repos: Indexed[], arch: string): Pin {
  const candidates = repos.filter((r) => !c.tag || r.repo.tag === c.tag);
  const key = `${c.name} ${c.version}`;
  let first: { lr: Indexed; rec: ApkRecord } | undefined;
  for (const lr of candidates) {
    const rec = lr.byNameVersion.get(key);
    if (rec) {
      first = { lr, rec };
      break;
    }
  }
  if (!first) throw new PingetError('INTERNAL', `apk chose ${c.name} ${c.version}, which no index pinget read has`);
  const { lr, rec } = first;
  const what = lr.indexUrl;
  if (rec.arch && rec.arch !== arch && rec.arch !== 'noarch') throw new PingetError('USAGE', `${what} has ${c.name} ${c.version} only for ${rec.arch}, not ${arch}: the repository does not serve ${arch}`);
  if (lr.repo.kind) {
    const hash = (rec as AdbIndexRecord).hash;
    // apk 3 writes a v2 package's SHA-1 identity as its hashes: the v2 check proves it
    // as apk 3 records it in the installed database (the SHA-256 cut to 160 bits for a v3 package)
    const identity = identityOfHash(hash);
    const at = v3Location(lr.repo, lr.indexUrl, lr.adb?.pkgnameSpec, rec);
    const same = (r: Indexed) => !!r.repo.kind && sameRecord(r, rec, (p) => (p as AdbIndexRecord).hash.equals(hash));
    const bases = repos.filter(same).map((r) => v3Location(r.repo, r.indexUrl, r.adb?.pkgnameSpec, rec)).filter((l) => l.path === at.path).map((l) => l.base);
    return { ref: { name: rec.name, version: rec.version, arch }, path: at.path, identity, v3: hash.length === 20 ? undefined : hash.toString('hex'), bases: [...new Set(bases)] };
  }
  if (!rec.identity) throw new PingetError('INTEGRITY', `${what}: the record of ${c.name} ${c.version} has no C: identity; its file cannot be checked`);
  const path = apkPath(lr.repo.branch, lr.repo.repo, arch, rec.name, rec.version);
  // Mirrors of the same repository (other lines with the same <branch>/<repo>) serve the same path.
  const bases = repos
    .filter((r) => !r.repo.kind && r.repo.branch === lr.repo.branch && r.repo.repo === lr.repo.repo && sameRecord(r, rec, (p) => p.identity === rec.identity))
    .map((r) => r.repo.base.replace(/\/+$/, ''));
  return { ref: { name: rec.name, version: rec.version, arch }, path, identity: rec.identity, bases: [...new Set(bases)] };
}

export async function resolveAlpine(req: ResolveRequest): Promise<ResolveResult> {
  if (!('root' in req.base)) throw new PingetError('USAGE', 'lock for Alpine and Wolfi starts from a base (--root DIR or --image): its repositories and keys');
  if (req.snapshot) throw new PingetError('USAGE', '--snapshot: Alpine and Wolfi keep no dated copies of their repositories to resolve against');
  if (req.targetRelease) throw new PingetError('USAGE', '-t has no meaning for apk: name the repository tag in the dependency instead (name@tag)');
  checkDeps(req.names);
  if (!req.recommends) req.log.verbose('--no-install-recommends: apk has no weak dependencies');
  const root = req.base.root;
  const records = await readInstalled(root); // the base's database, checked as `hash generate` checks it
  const baseArch = await readApkArch(root, records);
  const repos = await readRepositories(root, { v3: true });
  const v3 = repos.find((r) => r.kind);
  if (v3) await requireApk3(`etc/apk/repositories:${v3.line}: ${v3.url} is an apk v3 repository (Packages.adb index)`, 'read', APK_HINT);
  if (repos.length === 0) throw new PingetError('BAD_INPUT', `${join(root, 'etc/apk/repositories')}: no repository to resolve against`);
  const keysDir = join(root, 'etc/apk/keys');
  const keys = req.allowUnsigned ? undefined : await loadApkKeys(root);
  if (keys && keys.size === 0) throw new PingetError('INTEGRITY', `${keysDir}: no public key to check the repositories' indexes with; pass --allow-unsigned to skip the check`);
  const indexOptions = { arch: req.arch, fetcher: req.fetcher, keys, keysDir, log: req.log, scratch: join(req.scratch, 'apk-verify'), signal: req.signal };
  const fetched = await fetchIndexes(repos, indexOptions);
  const world = resolveInRoot(root, 'etc/apk/world');
  // apk resolves while pinget checks and reads the indexes; apk checks their signatures with the same keys before
  // it reads them, and its answer is taken only after pinget's own check passed (a failed check stops apk).
  const stopApk = new AbortController();
  const apk = await startApkChoose(
    {
      scratch: join(req.scratch, 'apk'),
      arch: req.arch,
      installed: installedDbFile(root),
      world: existsSync(world) ? world : undefined,
      baseArch,
      repos: fetched.map((r) => ({ tag: r.repo.tag, data: r.data, v3: !!r.repo.kind })),
      keys,
      names: req.names,
      signal: req.signal ? AbortSignal.any([req.signal, stopApk.signal]) : stopApk.signal,
    },
    repos.map((r) => r.url),
  );
  apk.changes.catch(() => undefined);
  const indexes = await readIndexes(fetched, indexOptions).catch(async (e: unknown) => {
    stopApk.abort();
    await apk.changes.catch(() => undefined);
    throw e;
  });
  const changes = await apk.changes;

  for (const c of changes.filter((x) => x.verb === 'Purging')) req.log.warn(`apk would remove ${c.name} ${c.version} from the base; a lockfile only adds packages`);
  const byName = indexed(indexes, new Set(changes.map((c) => c.name)));
  const byPath = new Map<string, Pin>();
  for (const c of changes) {
    if (c.verb === 'Purging' || c.verb === 'Reinstalling' || c.verb === 'Updating pinning') continue;
    const pin = locate(c, byName, req.arch);
    byPath.set(pin.path, pin);
  }
  const pins = [...byPath.values()];
  const files = await req.fetcher.unpinned(
    pins.map((p) => ({
      path: p.path,
      key: `apk ${p.v3 ?? p.identity}`,
      bases: p.bases,
      check: async (file: string) => (p.v3 ? checkAdbIdentity(p.path, file, p.v3) : void (await checkIdentity(p.path, file, p.identity, 'not the package the repository index names', 'the index names'))),
    })),
  );

  const entries: LockEntry[] = pins.map((p, i) => ({ path: p.path, sha256: files[i].sha256 }));
  const os = await readOsRelease(root);
  const headers: Record<string, string> = { distro: [os?.ID || 'alpine', os?.VERSION_ID, req.arch].filter(Boolean).join(' ') };
  const snapshot = snapshotOf(process.env, indexes.map((r) => r.index.date));
  if (snapshot) headers.snapshot = snapshot;
  if (pins.length) {
    headers[IDENTITY_HEADER] = formatIdentityHeader(new Map(pins.map((p) => [p.path, p.identity])));
    const asked = new Set(req.names.map(worldName));
    headers.manual = formatManual(pins.filter((p) => asked.has(p.ref.name)).map((p) => p.ref.name));
  }
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { entries, headers, packages: pins.map((p) => p.ref) };
}
