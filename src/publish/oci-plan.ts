/**
 * How a lockfile's files are split over OCI manifests. Pure.
 *
 * Why split at all: the OCI distribution spec only asks registries and clients to handle manifests
 * of at least 4 MB ("Client and registry implementations SHOULD expect to be able to support
 * manifest pushes of at least 4 megabytes", distribution-spec, "Pushing Manifests"), and
 * distribution/distribution 3.x refuses to serve larger ones. A layer descriptor with a title
 * annotation costs ~250 bytes plus its path, so a whole distro's lockfile (tens of thousands of
 * packages) can pass that. We cap each manifest at DEFAULT_MAX_LAYERS layers (a few hundred KB
 * for ordinary paths, which also keeps oras's argument list far below the kernel's limits) and at
 * MAX_MANIFEST_BYTES estimated bytes (for pathological path lengths), well under 4 MB.
 *
 * Naming: the first manifest gets TAG, the next TAG-2, TAG-3, ... Every manifest is tagged, so
 * registry garbage collection keeps all blobs. (An image index would name them under one tag, but
 * oras 1.2, the version Debian ships, cannot create one; tags also make each part fetchable alone.)
 * Each manifest carries the annotation PART_ANNOTATION = "i/n" so a reader knows how many parts exist.
 */
import { PingetError } from '../errors.js';
import { OCI_TAG } from '../fetch/oci-ref.js';

export const DEFAULT_MAX_LAYERS = 1000;
export const MAX_MANIFEST_BYTES = 3 * 1024 * 1024;
export const LAYER_MEDIA_TYPE = 'application/octet-stream';
export const ARTIFACT_TYPE = 'application/vnd.pinget.packages.v1';
export const PART_ANNOTATION = 'dev.pinget.part';

export interface PushFile {
  /** Lockfile path: the layer's title. */
  path: string;
  sha256: string;
  /** The local file holding those bytes (usually the cache blob). */
  file: string;
}

export interface ManifestPlan {
  tag: string;
  files: PushFile[];
}

/** Estimated JSON size of one layer descriptor in the manifest. */
export function descriptorBytes(f: { path: string }): number {
  return (
    JSON.stringify({
      mediaType: LAYER_MEDIA_TYPE,
      digest: `sha256:${'0'.repeat(64)}`,
      size: 1e12,
      annotations: { 'org.opencontainers.image.title': f.path },
    }).length + 1
  );
}

export function partTag(tag: string, index: number): string {
  return index === 0 ? tag : `${tag}-${index + 1}`;
}

/** Splits files (sorted by path, so the same lockfile gives the same manifests) into tagged manifests. */
export function planManifests(files: PushFile[], tag: string, maxLayers = DEFAULT_MAX_LAYERS, maxBytes = MAX_MANIFEST_BYTES): ManifestPlan[] {
  if (!Number.isInteger(maxLayers) || maxLayers < 1) throw new PingetError('USAGE', `max layers per manifest must be a positive integer, not ${maxLayers}`);
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const groups: PushFile[][] = [];
  let current: PushFile[] = [];
  let bytes = 0;
  for (const f of sorted) {
    const size = descriptorBytes(f);
    if (current.length > 0 && (current.length >= maxLayers || bytes + size > maxBytes)) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(f);
    bytes += size;
  }
  if (current.length > 0 || groups.length === 0) groups.push(current);
  return groups.map((g, i) => {
    const t = partTag(tag, i);
    if (!OCI_TAG.test(t)) throw new PingetError('USAGE', `tag "${t}" for manifest ${i + 1} of ${groups.length} is not a valid tag; use a shorter TAG`);
    return { tag: t, files: g };
  });
}
