/** OCI image layouts written by hand, as image-spec describes them, for the --image tests. */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const digest = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** An OCI image layout with these (already compressed or plain) layers. */
export async function makeLayout(dir: string, layers: Array<{ blob: Buffer; tar: Buffer; mediaType: string }>): Promise<void> {
  await mkdir(join(dir, 'blobs/sha256'), { recursive: true });
  const put = async (b: Buffer) => {
    await writeFile(join(dir, 'blobs/sha256', digest(b).slice(7)), b);
    return { digest: digest(b), size: b.length };
  };
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => digest(l.tar)) } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...(await put(config)) },
      layers: await Promise.all(layers.map(async (l) => ({ mediaType: l.mediaType, ...(await put(l.blob)) }))),
    }),
  );
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...(await put(manifest)) }] }));
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
}
