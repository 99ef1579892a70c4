/** `hash generate` for pacman roots: local db joined with sync dbs (and the cache dir), signatures checked. */
import { readFile } from 'node:fs/promises';
import { PingetError } from '../../src/errors.js';
import type { LockEntry } from '../../src/lockfile.js';
import { sha256Bytes, sha256File } from '../../src/verify/sha256.js';
import type { DistroInfo, GenerateOptions, GenerateResult } from '../../src/distro/types.js';
import type { PacmanPackage } from './desc.js';
import { listCache, loadPacmanRoot, readLocalDb, readSyncDbs, type PacmanRoot } from './pacman-root.js';
import { planPackages, type PlannedPackage } from './plan.js';
import { loadPacmanKeyring, verifyDetachedSig, type Keyring } from './signatures.js';
import { explicitHeader } from './manual-marks.js';

const HOST_ARCH: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', arm: 'armv7h', ia32: 'i686', riscv64: 'riscv64' };

/** pacman.conf's Architecture, else the most common arch of installed packages other than `any`. */
export function systemArch(pr: PacmanRoot, installed: PacmanPackage[], info?: DistroInfo): string {
  if (pr.arch) return pr.arch;
  const counts = new Map<string, number>();
  for (const p of installed) if (p.arch !== 'any') counts.set(p.arch, (counts.get(p.arch) ?? 0) + 1);
  const best = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
  return best?.[0] ?? info?.arch ?? HOST_ARCH[process.arch] ?? process.arch;
}

export function isoFromEpoch(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** SOURCE_DATE_EPOCH when set, else the newest BUILDDATE in the sync databases (content, never the clock). */
export function snapshotOf(env: NodeJS.ProcessEnv, repos: { packages: PacmanPackage[] }[]): string | undefined {
  const sde = env.SOURCE_DATE_EPOCH;
  if (sde !== undefined && sde !== '') {
    if (!/^\d+$/.test(sde)) throw new PingetError('USAGE', `SOURCE_DATE_EPOCH=${sde}: expected whole seconds since 1970`);
    return isoFromEpoch(Number(sde));
  }
  let newest = 0;
  for (const r of repos) for (const p of r.packages) if (p.builddate && p.builddate > newest) newest = p.builddate;
  return newest > 0 ? isoFromEpoch(newest) : undefined;
}

/** The root's pacman keyring, read once on first use; INTEGRITY when it has no key to check a signature with. */
export class KeyringLoader {
  private keys?: Keyring;
  constructor(private readonly pr: PacmanRoot) {}
  async get(what: string): Promise<Keyring> {
    this.keys ??= await loadPacmanKeyring(this.pr.gpgDir);
    if (this.keys.length === 0) {
      throw new PingetError(
        'INTEGRITY',
        `${what} is signed but ${this.pr.gpgDir}/pubring.gpg has no keys to check it; run pacman-key --init && pacman-key --populate in the root, or pass --allow-unsigned`,
      );
    }
    return this.keys;
  }
}

async function checkPackage(p: PlannedPackage, cache: Map<string, string>, keys: KeyringLoader | undefined): Promise<string> {
  const file = p.cacheFile!;
  const data = await readFile(file);
  const got = sha256Bytes(data);
  if (p.sha256 && got !== p.sha256) {
    throw new PingetError(
      'INTEGRITY',
      `${file}: sha256 ${got} differs from ${p.sha256} in the ${p.repo} sync database; remove the file from the cache (pacman -Sc) and try again`,
    );
  }
  if (keys) {
    const sigFile = cache.get(`${p.filename}.sig`);
    const sig = p.pgpsig ? Buffer.from(p.pgpsig, 'base64') : sigFile ? await readFile(sigFile) : undefined;
    if (sig) await verifyDetachedSig(data, sig, await keys.get(file), file);
  }
  return got;
}

/**
 * The `.sig` line of a package, as repro-get writes it: `<package path>.sig` with the sha256 of the detached
 * signature's bytes — the sync database's %PGPSIG% decoded, else a `.sig` file beside the package in the
 * cache dir. Install fetches it like any file and checks the package with it before pacman -U.
 */
async function signatureEntry(p: PlannedPackage, cache: Map<string, string>): Promise<LockEntry | undefined> {
  if (p.pgpsig) return { path: `${p.path}.sig`, sha256: sha256Bytes(Buffer.from(p.pgpsig, 'base64')) };
  const sigFile = cache.get(`${p.filename}.sig`);
  if (sigFile) return { path: `${p.path}.sig`, sha256: await sha256File(sigFile) };
  return undefined;
}

export async function generateArch(root: string, info: DistroInfo, opts: GenerateOptions, env: NodeJS.ProcessEnv = process.env): Promise<GenerateResult> {
  const pr = loadPacmanRoot(root);
  const installed = await readLocalDb(pr);
  const repos = await readSyncDbs(pr);
  const cache = await listCache(pr);
  const arch = systemArch(pr, installed, info);
  const plan = planPackages({ installed, repos, cache, arch, only: opts.only });
  if (plan.unknown.length > 0) {
    throw new PingetError('BAD_INPUT', `not installed in ${root}: ${plan.unknown.join(', ')}`);
  }
  // The archive's modules load only here: lock reads this file's helpers, never this path.
  const { resolveArchMissing } = await import('./archive-evidence.js');
  const archived = await resolveArchMissing(plan.missing, opts, () => new KeyringLoader(pr).get('a package from the Arch Linux Archive'), pr.cacheDirs[0]);

  const keys = opts.allowUnsigned ? undefined : new KeyringLoader(pr);
  if (keys) {
    for (const r of repos) if (r.sig) await verifyDetachedSig(r.data, r.sig, await keys.get(r.file), r.file);
  }
  const entries: LockEntry[] = [];
  let unchecked = 0;
  const unsigned: string[] = [];
  for (const p of plan.planned) {
    if (p.cacheFile) entries.push({ path: p.path, sha256: await checkPackage(p, cache, keys) });
    else {
      entries.push({ path: p.path, sha256: p.sha256! });
      if (p.pgpsig) unchecked++;
    }
    const sig = await signatureEntry(p, cache);
    if (sig) entries.push(sig);
    else unsigned.push(`${p.pkg.name} ${p.pkg.version}`);
  }
  if (unsigned.length > 0) {
    opts.log.warn(
      `${unsigned.length} package${unsigned.length === 1 ? ' has' : 's have'} no signature in the sync databases or the cache dir (${unsigned.slice(0, 10).join(', ')}${unsigned.length > 10 ? ', ...' : ''}); ` +
        `installing ${unsigned.length === 1 ? 'it' : 'them'} will need --allow-unsigned or LocalFileSigLevel = Required`,
    );
  }
  entries.push(...archived);
  if (unchecked > 0) {
    opts.log.verbose(`${unchecked} signed packages are not in the cache dir; their hashes come from the sync databases as pacman verified them`);
  }
  const headers: Record<string, string> = { distro: `${info.osId || 'arch'} ${info.versionId ?? 'rolling'} ${arch}` };
  const snapshot = snapshotOf(env, repos);
  if (snapshot) headers.snapshot = snapshot;
  Object.assign(headers, await explicitHeader(pr, plan.planned.map((p) => p.pkg)));
  return { entries, headers };
}
