/**
 * A lockfile seen as an SBOM, before any format: one package per pinned package file (name, full version,
 * arch, sha256, purl, source package, licence), the source packages whose files the lockfile pins, and the
 * lines that name no package the distro knows (kept as plain files, said on stderr). Deterministic: the
 * same lockfile (and root facts) give the same model, in lockfile order.
 */
import { createHash } from 'node:crypto';
import type { DistroAdapter, PackageRef } from '../distro/types.js';
import type { PackageFacts, PurlParts, SbomHooks, SbomSystem, SourcePackage } from '../distro/sbom-types.js';
import type { LockEntry, Lockfile } from '../lockfile.js';
import { PingetError } from '../errors.js';

export interface SbomLicence {
  /** A valid SPDX licence expression. */
  expression?: string;
  /** The package's own words, when they are not a valid SPDX expression. */
  text?: string;
}

export interface SbomSource extends SourcePackage {
  purl: string;
}

export interface SbomPackage extends PackageRef {
  path: string;
  sha256: string;
  purl: string;
  source?: SbomSource;
  licence?: SbomLicence;
}

/** A source package the lockfile pins files of (`--sources`): its files, each with its hash. */
export interface SbomSourcePackage extends SbomSource {
  files: LockEntry[];
}

export interface SbomModel {
  /** The lockfile's base name, and the sha256 of its bytes. */
  name: string;
  lockSha256: string;
  /** ISO-8601 UTC: SOURCE_DATE_EPOCH, else the lockfile's snapshot header; never the clock. */
  created?: string;
  system?: SbomSystem;
  packages: SbomPackage[];
  sources: SbomSourcePackage[];
  /** Lines that name no package: listed as files. */
  files: LockEntry[];
}

export interface ModelInput {
  name: string;
  bytes: Uint8Array;
  lock: Lockfile;
  adapter?: DistroAdapter;
  hooks?: SbomHooks;
  /** What the root's database says, one element per entry of `lock.entries` (undefined where nothing). */
  facts?: (PackageFacts | undefined)[];
  env?: NodeJS.ProcessEnv;
}

/** `debian 12 (bookworm) amd64` -> {osId: debian, versionId: 12}. */
export function systemOf(headers: Record<string, string>, fallbackId?: string): SbomSystem | undefined {
  const words = headers.distro?.trim().split(/\s+/) ?? [];
  if (!words[0]) return fallbackId ? { osId: fallbackId } : undefined;
  const second = words[1];
  const versionId = second && !second.startsWith('(') && (words.length >= 3 || /^\d/.test(second)) ? second : undefined;
  return { osId: words[0].toLowerCase(), versionId };
}

/** SOURCE_DATE_EPOCH, else the snapshot header, as ISO-8601 UTC seconds. */
export function createdOf(headers: Record<string, string>, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const sde = env.SOURCE_DATE_EPOCH;
  const ms = sde && /^\d{1,12}$/.test(sde) ? Number(sde) * 1000 : headers.snapshot ? Date.parse(headers.snapshot) : NaN;
  return Number.isFinite(ms) ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') : undefined;
}

let purlModule: Promise<typeof import('packageurl-js')> | undefined;
let parseSpdx: Promise<(s: string) => unknown> | undefined;

async function purlOf(parts: PurlParts): Promise<string> {
  const { PackageURL } = await (purlModule ??= import('packageurl-js'));
  return new PackageURL(parts.type, parts.namespace, parts.name, parts.version, parts.qualifiers, undefined).toString();
}

async function licenceOf(text: string | undefined): Promise<SbomLicence | undefined> {
  const t = text?.trim();
  if (!t) return undefined;
  const parse = await (parseSpdx ??= import('spdx-expression-parse').then((m) => m.default));
  try {
    parse(t);
    return { expression: t };
  } catch {
    return { text: t };
  }
}

/** Facts from the root may add an epoch, a source, a licence; a different version is a bug of the caller. */
function merge(path: PackageFacts, root: PackageFacts | undefined): PackageFacts {
  if (!root) return path;
  const source = path.source?.version ? path.source : root.source && (!path.source || root.source.name === path.source.name) ? root.source : path.source;
  return { epoch: root.epoch ?? path.epoch, source, licence: root.licence ?? path.licence };
}

export async function buildModel(input: ModelInput, warn: (line: string) => void): Promise<SbomModel> {
  const { lock, adapter, hooks } = input;
  const system = systemOf(lock.headers, adapter?.id);
  const packages: SbomPackage[] = [];
  const sources = new Map<string, SbomSourcePackage>();
  const files: LockEntry[] = [];
  for (const [i, entry] of lock.entries.entries()) {
    const srcFile = hooks?.sourceFile?.(entry.path);
    if (srcFile && hooks && system) {
      const key = `${srcFile.name}\0${srcFile.version ?? ''}`;
      const have = [...sources.values()].find((s) => s.name === srcFile.name && (!srcFile.version || !s.version || s.version === srcFile.version));
      const pkg = have ?? { ...srcFile, purl: '', files: [] };
      if (!have) sources.set(key, pkg);
      pkg.version ??= srcFile.version;
      pkg.files.push(entry);
      continue;
    }
    const ref = adapter?.inspect(entry.path);
    if (!ref || !hooks || !system) {
      files.push(entry);
      continue;
    }
    const facts = merge(hooks.pathFacts(entry.path, ref), input.facts?.[i]);
    const pkg: SbomPackage = {
      name: ref.name,
      version: hooks.fullVersion(ref, facts.epoch),
      arch: ref.arch,
      path: entry.path,
      sha256: entry.sha256,
      purl: await purlOf(hooks.purl(ref, system, facts.epoch)),
    };
    if (facts.source) pkg.source = { ...facts.source, purl: await purlOf(hooks.sourcePurl(facts.source, system)) };
    const licence = await licenceOf(facts.licence);
    if (licence) pkg.licence = licence;
    packages.push(pkg);
  }
  for (const s of sources.values()) s.purl = await purlOf(hooks!.sourcePurl(s, system!));
  // A binary whose source package the lockfile pins gets that source's version (the .dsc's).
  for (const p of packages) {
    const pinned = p.source && !p.source.version ? [...sources.values()].filter((s) => s.name === p.source!.name) : [];
    if (pinned.length === 1 && pinned[0].version) p.source = { name: pinned[0].name, version: pinned[0].version, purl: pinned[0].purl };
  }
  if (files.length) {
    warn(`${files.length} lockfile line(s) name no ${adapter ? `${adapter.id} ` : ''}package; listed as plain files with their sha256: ${files.slice(0, 5).map((f) => f.path).join(', ')}${files.length > 5 ? ', ...' : ''}`);
  }
  if (packages.length + [...sources.values()].reduce((n, s) => n + s.files.length, 0) + files.length !== lock.entries.length) throw new PingetError('INTERNAL', 'SBOM model lost a lockfile entry');
  return {
    name: input.name,
    lockSha256: createHash('sha256').update(input.bytes).digest('hex'),
    created: createdOf(lock.headers, input.env),
    system,
    packages,
    sources: [...sources.values()],
    files,
  };
}

/** A UUID (RFC 9562 version 5 layout) named by the model's content: the same model, the same UUID. */
export function modelUuid(model: SbomModel, format: string): string {
  const h = createHash('sha256').update(`pinget-sbom\0${format}\0${JSON.stringify(model)}`).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
