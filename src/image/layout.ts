/**
 * The layers of an image on disk, bottom first, from either shape `docker save` / `podman save` / `skopeo
 * copy` / `oras copy` leave:
 *  - an OCI image layout (image-spec image-layout.md): `oci-layout`, `index.json` whose manifests (or a
 *    nested image index) lead to a manifest whose `layers` are blobs at `blobs/<alg>/<hex>`;
 *  - a docker archive (moby image/spec "save" format): `manifest.json`, a list of
 *    `{Config, RepoTags, Layers}` with Layers as paths in the archive; the config's `rootfs.diff_ids`
 *    are the digests of the uncompressed layer tars.
 * Both come from outside: digests are checked against the blobs, paths are kept inside the directory.
 */
import { readFile } from 'node:fs/promises';
import { PingetError } from '../errors.js';
import { checkedParts, containedDir } from './contained.js';

export interface LayerRef {
  /** The layer file inside the layout directory. */
  file: string;
  /** `sha256:<hex>` of the file as stored (OCI descriptors), when known. */
  digest?: string;
  /** `sha256:<hex>` of the uncompressed tar (docker archives' diff_ids), when known. */
  diffId?: string;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

interface Descriptor {
  mediaType?: string;
  digest?: string;
  platform?: { architecture?: string; os?: string };
}

async function readJson(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new PingetError('BAD_INPUT', `${what}: cannot read ${(e as NodeJS.ErrnoException).code ?? e}`, { cause: e });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new PingetError('BAD_INPUT', `${what}: not JSON (${(e as Error).message})`, { cause: e });
  }
}

async function exists(file: string): Promise<boolean> {
  return readFile(file).then(
    () => true,
    () => false,
  );
}

function blobPath(dir: string, digest: unknown, what: string): Promise<string> {
  if (typeof digest !== 'string' || !DIGEST.test(digest)) throw new PingetError('BAD_INPUT', `${what}: digest ${JSON.stringify(digest)} is not sha256:<64 hex>`);
  return containedDir(dir, ['blobs', 'sha256', digest.slice(7)]);
}

/** One manifest out of an index: the only one, else the one for this machine's architecture (linux). */
function pickManifest(list: Descriptor[], what: string): Descriptor {
  if (list.length === 1) return list[0];
  const arch = GOARCH[process.arch] ?? process.arch;
  const mine = list.filter((d) => d.platform?.architecture === arch && (d.platform.os ?? 'linux') === 'linux');
  if (mine.length === 1) return mine[0];
  throw new PingetError('BAD_INPUT', `${what}: ${list.length} manifests and none (or several) for linux/${arch}; copy one image into the layout (skopeo copy without --all)`);
}

async function ociLayers(dir: string, what: string): Promise<LayerRef[]> {
  let desc = pickManifest(((await readJson(`${dir}/index.json`, `${what}/index.json`)) as { manifests?: Descriptor[] }).manifests ?? [], `${what}/index.json`);
  for (let depth = 0; depth < 4; depth++) {
    const doc = (await readJson(await blobPath(dir, desc.digest, what), `${what} ${desc.digest}`)) as { mediaType?: string; manifests?: Descriptor[]; layers?: Descriptor[] };
    if (INDEX_TYPES.has(desc.mediaType ?? '') || INDEX_TYPES.has(doc.mediaType ?? '') || (doc.manifests && !doc.layers)) {
      desc = pickManifest(doc.manifests ?? [], `${what} ${desc.digest}`);
      continue;
    }
    if (!Array.isArray(doc.layers)) throw new PingetError('BAD_INPUT', `${what} ${desc.digest}: an image manifest without layers`);
    return Promise.all(doc.layers.map(async (l) => ({ file: await blobPath(dir, l.digest, what), digest: l.digest })));
  }
  throw new PingetError('BAD_INPUT', `${what}: image indexes nested too deep`);
}

async function dockerLayers(dir: string, what: string): Promise<LayerRef[]> {
  const list = (await readJson(`${dir}/manifest.json`, `${what}/manifest.json`)) as Array<{ Config?: string; Layers?: string[] }>;
  if (!Array.isArray(list) || list.length !== 1) {
    throw new PingetError('BAD_INPUT', `${what}/manifest.json: ${Array.isArray(list) ? list.length : 'no'} images; save exactly one image`);
  }
  const [m] = list;
  const file = (p: unknown) => {
    if (typeof p !== 'string') throw new PingetError('BAD_INPUT', `${what}/manifest.json: a layer or config path is not a string`);
    return containedDir(dir, checkedParts(p, `${what}/manifest.json`));
  };
  let diffIds: unknown[] = [];
  if (m.Config) {
    const config = (await readJson(await file(m.Config), `${what} ${m.Config}`)) as { rootfs?: { diff_ids?: unknown[] } };
    diffIds = config.rootfs?.diff_ids ?? [];
  }
  return Promise.all(
    (m.Layers ?? []).map(async (l, i) => {
      const d = diffIds[i];
      return { file: await file(l), diffId: typeof d === 'string' && DIGEST.test(d) ? d : undefined };
    }),
  );
}

/** The layers of the image in dir (an OCI layout or an unpacked docker archive), bottom first. */
export async function imageLayers(dir: string, what: string): Promise<LayerRef[]> {
  if ((await exists(`${dir}/oci-layout`)) && (await exists(`${dir}/index.json`))) return ociLayers(dir, what);
  if (await exists(`${dir}/manifest.json`)) return dockerLayers(dir, what);
  throw new PingetError('BAD_INPUT', `${what}: neither an OCI image layout (oci-layout, index.json) nor a docker archive (manifest.json)`);
}
