/**
 * Which file pins each installed package: pure planning over already-read databases.
 * A sync database entry with the installed version gives the file name and sha256; failing that, a file
 * of that name and version in pacman's cache dir (hashed by the caller); failing that, the package is missing.
 */
import type { PacmanPackage } from './desc.js';
import { archivePath, mirrorPath, parsePackageFilename } from './paths.js';

export interface PlannedPackage {
  pkg: PacmanPackage;
  /** Lockfile path. */
  path: string;
  filename: string;
  /** From the sync database; undefined when the cache file must be hashed. */
  sha256?: string;
  repo?: string;
  /** The cache file, when one is there (for hashing and signature checks). */
  cacheFile?: string;
  /** Base64 signature from the sync database. */
  pgpsig?: string;
}

export interface Plan {
  planned: PlannedPackage[];
  missing: PacmanPackage[];
  /** Names asked for with `only` that are not installed. */
  unknown: string[];
}

export interface PlanInput {
  installed: PacmanPackage[];
  repos: { name: string; packages: PacmanPackage[] }[];
  /** File name -> path, from the cache dirs. */
  cache: Map<string, string>;
  /** The `$arch` of the mirror layout. */
  arch: string;
  only?: string[];
}

export function planPackages(input: PlanInput): Plan {
  const wanted = input.only?.length ? new Set(input.only) : undefined;
  const installed = wanted ? input.installed.filter((p) => wanted.has(p.name)) : input.installed;
  const unknown = wanted ? [...wanted].filter((n) => !installed.some((p) => p.name === n)).sort() : [];
  const byCache = new Map<string, string>();
  for (const file of input.cache.keys()) {
    const ref = parsePackageFilename(file);
    if (ref) byCache.set(`${ref.name}\0${ref.version}\0${ref.arch}`, file);
  }
  const planned: PlannedPackage[] = [];
  const missing: PacmanPackage[] = [];
  for (const pkg of installed) {
    const cacheName = byCache.get(`${pkg.name}\0${pkg.version}\0${pkg.arch}`);
    let hit: PlannedPackage | undefined;
    for (const repo of input.repos) {
      const s = repo.packages.find((p) => p.name === pkg.name && p.version === pkg.version && p.arch === pkg.arch);
      if (!s?.filename || !s.sha256 || s.filename.includes('/')) continue;
      hit = {
        pkg,
        path: mirrorPath(repo.name, input.arch, s.filename),
        filename: s.filename,
        sha256: s.sha256,
        repo: repo.name,
        pgpsig: s.pgpsig,
        cacheFile: input.cache.has(s.filename) ? input.cache.get(s.filename) : undefined,
      };
      break;
    }
    if (!hit && cacheName) {
      hit = { pkg, path: archivePath(pkg.name, cacheName), filename: cacheName, cacheFile: input.cache.get(cacheName) };
    }
    if (hit) planned.push(hit);
    else missing.push(pkg);
  }
  return { planned, missing, unknown };
}
