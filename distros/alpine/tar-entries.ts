/** The entries of an in-memory tar (with or without the end-of-archive blocks apk cuts off). */
import tar from 'tar-stream';

export interface TarEntry {
  name: string;
  type: string;
  mtime?: Date;
  /** PAX records, e.g. APK-TOOLS.checksum.SHA1. */
  pax: Record<string, string>;
  data: Buffer;
}

export async function readTarEntries(buf: Buffer): Promise<TarEntry[]> {
  const extract = tar.extract();
  const out: TarEntry[] = [];
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      const h = entry.header;
      out.push({ name: h.name, type: h.type ?? 'file', mtime: h.mtime, pax: (h.pax as Record<string, string> | undefined) ?? {}, data: Buffer.concat(chunks) });
    }
  })();
  extract.end(buf);
  await done;
  return out;
}
