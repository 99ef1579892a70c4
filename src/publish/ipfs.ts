/**
 * `pinget cache push ipfs`: adds verified files to a Kubo node over its RPC with explicit import settings
 * (never the node's defaults, which have changed between kubo versions), pins them, and returns the CIDs
 * for the lockfile's /ipfs/ lines. Each CID the node reports is checked against the one computed locally
 * for the same settings, so a node that ignored an option cannot put a wrong CID into a lockfile.
 */
import { createReadStream } from 'node:fs';
import { PingetError, reasonOf } from '../errors.js';
import type { CidBuilder, ImportSettings } from '../fetch/cid.js';
import { ipfsApiUrl, isConnectionFailure } from '../fetch/ipfs.js';
import type { Logger } from '../ui/log.js';
import { HashingStream } from '../verify/sha256.js';

export interface PublishFile {
  /** Lockfile path, for messages. */
  path: string;
  sha256: string;
  /** Local file holding the bytes (e.g. the cache blob). */
  file: string;
}

export interface PublishOptions {
  /** Kubo RPC endpoint: HOST:PORT, http://HOST:PORT or a multiaddr. */
  api: string;
  log: Logger;
  settings?: ImportSettings;
  signal?: AbortSignal;
}

export interface PublishResult {
  /** sha256 -> CID. */
  cids: Map<string, string>;
  /** For the lockfile header, e.g. `ipfs-import: cidv1 raw-leaves chunker=size-1048576 ...`. */
  settings: string;
}

/** Reads a file once: its sha256 and its CID for the settings. */
async function hashAndCid(file: string, settings: ImportSettings, Builder: typeof CidBuilder): Promise<{ sha256: string; cid: string }> {
  const hasher = new HashingStream();
  const cid = new Builder(settings);
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }).pipe(hasher)) cid.update(chunk as Buffer);
  return { sha256: hasher.digest(), cid: cid.digest() };
}

export async function publishToIpfs(files: PublishFile[], opts: PublishOptions): Promise<PublishResult> {
  // kubo-rpc-client (~300 ms to load) and the UnixFS code load only when something is published.
  const [{ create }, { CidBuilder, PINGET_IMPORT, addOptions, describeSettings }] = await Promise.all([import('kubo-rpc-client'), import('../fetch/cid.js')]);
  const settings = opts.settings ?? PINGET_IMPORT;
  const url = ipfsApiUrl(opts.api);
  const client = create({ url });
  // One add per distinct hash, in hash order: the same lockfile gives the same calls and the same result.
  const byHash = new Map<string, PublishFile>();
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    if (!byHash.has(f.sha256)) byHash.set(f.sha256, f);
  }
  const cids = new Map<string, string>();
  for (const sha256 of [...byHash.keys()].sort()) {
    const f = byHash.get(sha256)!;
    let local: { sha256: string; cid: string };
    try {
      local = await hashAndCid(f.file, settings, CidBuilder);
    } catch (e) {
      throw new PingetError('BAD_INPUT', `${f.file}: cannot read ${f.path}: ${reasonOf(e)}`, { cause: e });
    }
    if (local.sha256 !== sha256) {
      throw new PingetError('INTEGRITY', `${f.file}: sha256 ${local.sha256} does not match ${sha256} for ${f.path}; not publishing it (run pinget cache verify)`);
    }
    let added: string;
    try {
      const res = await client.add(createReadStream(f.file, { highWaterMark: 1 << 20 }), {
        ...addOptions(settings),
        pin: true,
        wrapWithDirectory: false,
        signal: opts.signal,
      });
      added = res.cid.toString();
    } catch (e) {
      if (opts.signal?.aborted) throw e;
      const refused = isConnectionFailure(e);
      throw new PingetError(
        'UNAVAILABLE',
        refused
          ? `no IPFS RPC endpoint at ${url} (${reasonOf((e as Error).cause ?? e)}); start a Kubo node (ipfs daemon) or point --ipfs-api / IPFS_API at one`
          : `${url}: adding ${f.path} failed: ${reasonOf(e)}`,
        { cause: e },
      );
    }
    if (added !== local.cid) {
      throw new PingetError(
        'INTEGRITY',
        `${url} returned CID ${added} for ${f.path}, but "${describeSettings(settings)}" gives ${local.cid}; the node ignored an import setting, so no /ipfs/ line was written`,
      );
    }
    opts.log.verbose(`ipfs: ${f.path} -> /ipfs/${added} (pinned)`);
    cids.set(sha256, added);
  }
  opts.log.info(`ipfs: added and pinned ${cids.size} file(s) on ${url}`);
  return { cids, settings: describeSettings(settings) };
}
