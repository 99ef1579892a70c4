/**
 * Lockfile -> SBOM text: what `pinget sbom` and `dockerfile generate --sbom` share. The adapter comes from
 * the lockfile (its distro header, else the shape of its paths); a root (--root, --image) may add what its
 * package database knows of packages installed at exactly the pinned versions.
 */
import { basename } from 'node:path';
import type { DistroAdapter, PackageRef } from '../distro/types.js';
import type { PackageFacts } from '../distro/sbom-types.js';
import { PingetError } from '../errors.js';
import { readLockfileBytes } from '../lockfile.js';
import type { Logger } from '../ui/log.js';
import { pingetVersion } from '../version.js';
import { headerDistroId } from './plan.js';

export const SBOM_FORMATS = ['cyclonedx', 'spdx'] as const;
export type SbomFormat = (typeof SBOM_FORMATS)[number];

export interface SbomRequest {
  file: string;
  format: SbomFormat;
  /** A root whose package database may add facts; none by default. */
  root?: string;
  log: Logger;
}

export interface SbomResult {
  text: string;
  packages: number;
  sources: number;
  files: number;
}

async function rootFacts(adapter: DistroAdapter, root: string, refs: (PackageRef | undefined)[], log: Logger): Promise<(PackageFacts | undefined)[]> {
  const info = await adapter.detect(root);
  if (!info) throw new PingetError('BAD_INPUT', `${root}: not a ${adapter.id} root (its os-release), but the lockfile is for ${adapter.id}`);
  if (!adapter.installedFacts) {
    log.warn(`the ${adapter.id} adapter reads nothing more from a root for an SBOM; the lockfile alone is used`);
    return refs.map(() => undefined);
  }
  const known = refs.flatMap((r, i) => (r ? [{ r, i }] : []));
  const facts = await adapter.installedFacts(root, info, known.map((k) => k.r));
  const out: (PackageFacts | undefined)[] = refs.map(() => undefined);
  known.forEach((k, j) => (out[k.i] = facts[j]));
  const missing = known.filter((_k, j) => !facts[j]).length;
  if (missing) log.warn(`${missing} pinned package(s) are not installed in ${root} at the pinned version; the lockfile alone describes them`);
  return out;
}

export async function makeSbom(req: SbomRequest): Promise<SbomResult> {
  const stdin = req.file === '-' || req.file === '/dev/stdin';
  const { lock, bytes } = stdin ? await readLockfileBytes('<stdin>', { source: process.stdin }) : await readLockfileBytes(req.file);
  const { adapterById, adapterForPath } = await import('../distro-registry.js');
  const id = headerDistroId(lock.headers);
  const adapter = (id && adapterById(id)) || lock.entries.map((e) => adapterForPath(e.path)).find(Boolean);
  if (id && !adapter) req.log.warn(`${req.file}: distro "${id}" is not one pinget knows; every line is listed as a plain file`);
  const hooks = await adapter?.sbomHooks?.();
  const facts = adapter && req.root ? await rootFacts(adapter, req.root, lock.entries.map((e) => adapter.inspect(e.path)), req.log) : undefined;
  const { buildModel } = await import('../sbom/model.js');
  const model = await buildModel({ name: stdin ? 'stdin' : basename(req.file), bytes, lock, adapter, hooks, facts }, (line) => req.log.warn(line));
  const text =
    req.format === 'spdx' ? (await import('../sbom/spdx.js')).toSpdx(model, pingetVersion()) : await (await import('../sbom/cyclonedx.js')).toCycloneDx(model, pingetVersion());
  return { text, packages: model.packages.length, sources: model.sources.length, files: model.files.length };
}
