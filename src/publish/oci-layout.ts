/**
 * The cache as an OCI image layout (image-spec image-layout.md): `oci-layout`, `index.json` and
 * `blobs/sha256/<hex>`. `index.json` names one artifact manifest per part (tags TAG, TAG-2, ... split as
 * `cache push` splits them, see oci-plan.ts) in `org.opencontainers.image.ref.name`; each manifest lists the
 * files as layers titled with their lockfile paths (`org.opencontainers.image.title`, as oras writes them),
 * with the artifact type of `cache push` and the empty config the artifact guidance prescribes
 * (image-spec manifest.md, "Guidelines for Artifact Usage": `application/vnd.oci.empty.v1+json`, `{}`).
 * So oras (`--oci-layout DIR:TAG`), skopeo (`oci:DIR:TAG`) and umoci read it, and `oras copy
 * --from-oci-layout` puts it in a registry as `cache push` would. Reading accepts any layout whose
 * manifests are reachable from index.json, such as one `oras copy --to-oci-layout` wrote.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PingetError } from '../errors.js';
import { SHA256_HEX, sha256Bytes } from '../verify/sha256.js';
import { ARTIFACT_TYPE, LAYER_MEDIA_TYPE, PART_ANNOTATION, planManifests } from './oci-plan.js';

export const MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';
export const EMPTY_MEDIA_TYPE = 'application/vnd.oci.empty.v1+json';
export const TITLE = 'org.opencontainers.image.title';
export const REF_NAME = 'org.opencontainers.image.ref.name';
const CREATED = 'org.opencontainers.image.created';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface LayoutFile {
  /** Lockfile path (the layer title). */
  path: string;
  sha256: string;
  size: number;
}

export interface LayoutPlan {
  /** Manifests and the config: digest hex -> bytes. */
  blobs: Map<string, Buffer>;
  index: Buffer;
  manifests: { tag: string; digest: string; layers: number }[];
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

/** The manifests and index.json for these files. Pure; the same files, tag and epoch give the same bytes. */
export function planLayout(files: LayoutFile[], tag: string, opts: { sourceDateEpoch?: string; maxLayers?: number } = {}): LayoutPlan {
  const blobs = new Map<string, Buffer>();
  const empty = Buffer.from('{}');
  const config: Descriptor = { mediaType: EMPTY_MEDIA_TYPE, digest: `sha256:${sha256Bytes(empty)}`, size: empty.length };
  blobs.set(sha256Bytes(empty), empty);
  const sizes = new Map(files.map((f) => [`${f.path}\0${f.sha256}`, f.size]));
  const plans = planManifests(files.map((f) => ({ ...f, file: '' })), tag, opts.maxLayers);
  const created = opts.sourceDateEpoch && /^\d+$/.test(opts.sourceDateEpoch) ? new Date(Number(opts.sourceDateEpoch) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') : undefined;
  const index: Descriptor[] = [];
  const manifests: LayoutPlan['manifests'] = [];
  for (const [i, plan] of plans.entries()) {
    const manifest = {
      schemaVersion: 2,
      mediaType: MANIFEST_MEDIA_TYPE,
      artifactType: ARTIFACT_TYPE,
      config,
      layers: plan.files.map((f) => ({ mediaType: LAYER_MEDIA_TYPE, digest: `sha256:${f.sha256}`, size: sizes.get(`${f.path}\0${f.sha256}`)!, annotations: { [TITLE]: f.path } })),
      annotations: { [PART_ANNOTATION]: `${i + 1}/${plans.length}`, ...(created ? { [CREATED]: created } : {}) },
    };
    const bytes = json(manifest);
    const hex = sha256Bytes(bytes);
    blobs.set(hex, bytes);
    index.push({ mediaType: MANIFEST_MEDIA_TYPE, digest: `sha256:${hex}`, size: bytes.length, artifactType: ARTIFACT_TYPE, annotations: { [REF_NAME]: plan.tag } });
    manifests.push({ tag: plan.tag, digest: `sha256:${hex}`, layers: plan.files.length });
  }
  return { blobs, index: json({ schemaVersion: 2, mediaType: INDEX_MEDIA_TYPE, manifests: index }), manifests };
}

/** Writes `oci-layout`, the plan's manifest and config blobs, and `index.json` (last, so a reader never sees it point at missing blobs). */
export async function writeLayoutMetadata(dir: string, plan: LayoutPlan): Promise<void> {
  const blobDir = join(dir, 'blobs', 'sha256');
  await mkdir(blobDir, { recursive: true });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }) + '\n');
  for (const [hex, bytes] of plan.blobs) await writeFile(join(blobDir, hex), bytes);
  await writeFile(join(dir, 'index.json'), plan.index);
}

export interface LayoutLayer {
  sha256: string;
  /** The layer's title, when it has one. */
  title?: string;
  /** Where the bytes are in the layout. */
  file: string;
}

function digestHex(d: { digest?: unknown }, what: string): string {
  const m = typeof d.digest === 'string' ? /^sha256:([0-9a-f]{64})$/.exec(d.digest) : null;
  if (!m || !SHA256_HEX.test(m[1])) throw new PingetError('BAD_INPUT', `${what}: descriptor digest ${JSON.stringify(d.digest)} is not a sha256 digest`);
  return m[1];
}

async function readJsonBlob(dir: string, hex: string, what: string): Promise<Record<string, unknown>> {
  const file = join(dir, 'blobs', 'sha256', hex);
  const bytes = await readFile(file).catch((e: unknown) => {
    throw new PingetError('BAD_INPUT', `${what}: blob ${hex} is missing from the layout`, { cause: e });
  });
  if (bytes.length > 16 * 1024 * 1024) throw new PingetError('BAD_INPUT', `${what}: blob ${hex} is too large for a manifest`);
  if (sha256Bytes(bytes) !== hex) throw new PingetError('INTEGRITY', `${what}: blob ${hex} does not match its digest`);
  try {
    return JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new PingetError('BAD_INPUT', `${what}: blob ${hex} is not JSON`, { cause: e });
  }
}

/** True when DIR holds an image layout with an index.json. */
export async function isLayout(dir: string): Promise<boolean> {
  return !!(await stat(join(dir, 'index.json')).catch(() => undefined))?.isFile();
}

/**
 * The layers of every manifest reachable from index.json (nested indexes followed), each manifest's
 * bytes checked against its digest. Config blobs and manifests are not layers. Same digest twice: once.
 */
export async function readLayoutLayers(dir: string): Promise<LayoutLayer[]> {
  let index: Record<string, unknown>;
  const indexFile = join(dir, 'index.json');
  if ((await stat(indexFile)).size > 16 * 1024 * 1024) throw new PingetError('BAD_INPUT', `${indexFile}: too large for an image index`);
  try {
    index = JSON.parse(await readFile(indexFile, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new PingetError('BAD_INPUT', `${join(dir, 'index.json')}: not a readable OCI image index (${(e as Error).message})`, { cause: e });
  }
  const out = new Map<string, LayoutLayer>();
  const seen = new Set<string>();
  const visit = async (doc: Record<string, unknown>, what: string, depth: number): Promise<void> => {
    if (depth > 8) throw new PingetError('BAD_INPUT', `${what}: indexes nested too deeply`);
    for (const d of Array.isArray(doc.manifests) ? (doc.manifests as Descriptor[]) : []) {
      const hex = digestHex(d, what);
      if (seen.has(hex)) continue;
      seen.add(hex);
      const child = await readJsonBlob(dir, hex, what);
      await visit(child, `${what} -> ${hex.slice(0, 12)}`, depth + 1);
    }
    for (const l of Array.isArray(doc.layers) ? (doc.layers as Descriptor[]) : []) {
      const hex = digestHex(l, what);
      if (!out.has(hex)) out.set(hex, { sha256: hex, title: l.annotations?.[TITLE], file: join(dir, 'blobs', 'sha256', hex) });
    }
  };
  await visit(index, join(dir, 'index.json'), 0);
  return [...out.values()];
}
