/**
 * The `ipfs://` provider: fetches a file by CID through a Kubo RPC endpoint (`/api/v0/cat`) with
 * kubo-rpc-client. `ipfs://` uses the endpoint from --ipfs-api, else env IPFS_API, else 127.0.0.1:5001;
 * `ipfs+api://HOST:PORT` names it in the template. The caller hashes the bytes, so a node is trusted for
 * nothing. HTTP gateways need no code here: an http(s) template with `{{.CID}}` goes through the HTTP provider.
 */
import { Readable } from 'node:stream';
import type { KuboRPCClient } from 'kubo-rpc-client';
import { PingetError, reasonOf } from '../errors.js';
import type { FetchBody, FetchTarget, Provider, ProviderContext, ProviderFactory } from './types.js';

export const DEFAULT_IPFS_API = '127.0.0.1:5001';

/** `HOST:PORT`, `http://HOST:PORT` or a multiaddr `/ip4/.../tcp/...` -> the RPC base URL. */
export function ipfsApiUrl(endpoint: string): string {
  const e = endpoint.trim();
  const ma = /^\/(ip4|ip6|dns|dns4|dns6)\/([^/]+)\/tcp\/(\d+)(?:\/(http|https))?\/?$/.exec(e);
  if (ma) {
    const host = ma[1] === 'ip6' ? `[${ma[2]}]` : ma[2];
    return `${ma[4] ?? 'http'}://${host}:${ma[3]}`;
  }
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(e) ? e : `http://${e}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    parsed = new URL('invalid://');
  }
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || !parsed.hostname) {
    throw new PingetError('USAGE', `bad IPFS RPC endpoint "${endpoint}": expected HOST:PORT, http://HOST:PORT or /ip4/ADDR/tcp/PORT`);
  }
  return `${parsed.protocol}//${parsed.host}`;
}

/** The CID to ask for: the lockfile's /ipfs/ line, else the raw-leaf CIDv1 derived from the sha256. */
export async function cidFor(target: FetchTarget): Promise<string> {
  const { rawLeafCid } = await import('./cid.js');
  // Without an /ipfs/ line the only CID derivable from the sha256 is that of the file as one raw block:
  // right for files added with raw leaves in a single chunk (<= 1 MiB under pinget's settings), wrong for
  // any larger or differently imported file, which then is simply not found.
  return target.cid ?? rawLeafCid(target.sha256);
}

/** A network-level failure reaching the endpoint (fetch's "fetch failed" TypeError, or a socket error code). */
export function isConnectionFailure(e: unknown): boolean {
  if (e instanceof TypeError && e.message === 'fetch failed') return true;
  for (let c: unknown = e, i = 0; c instanceof Error && i < 5; c = (c as { cause?: unknown }).cause, i++) {
    const code = (c as NodeJS.ErrnoException).code;
    if (code && /^(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|UND_ERR_SOCKET|UND_ERR_CONNECT_TIMEOUT)$/.test(code)) return true;
    if (c.name === 'FetchError' && /ECONNREFUSED|ENOTFOUND|socket hang up/.test(c.message)) return true;
  }
  return false;
}

/** The RPC's own error text: kubo answers `{"Message": "...", "Code": 0, "Type": "error"}`. */
async function rpcMessage(e: unknown): Promise<string> {
  const res = (e as { response?: { text?: () => Promise<string> } }).response;
  if (res?.text) {
    try {
      const body = await res.text();
      try {
        const msg = (JSON.parse(body) as { Message?: unknown }).Message;
        if (typeof msg === 'string' && msg) return msg;
      } catch {
        /* not JSON */
      }
      if (body.trim()) return body.trim().split('\n')[0].slice(0, 300);
    } catch {
      /* body already used */
    }
  }
  return reasonOf(e);
}

export class IpfsProvider implements Provider {
  readonly label: string;
  readonly apiUrl: string;
  private client?: Promise<KuboRPCClient>;
  private readonly timeoutMs: number;

  constructor(apiUrl: string, timeoutMs: number) {
    this.apiUrl = apiUrl;
    this.label = `ipfs+api://${new URL(apiUrl).host}`;
    this.timeoutMs = timeoutMs;
  }

  /** kubo-rpc-client takes ~300 ms to load: it is loaded on the first fetch, not when the chain is built. */
  private rpc(): Promise<KuboRPCClient> {
    // In Node, kubo-rpc-client uses the global fetch (undici), whose pooled sockets do not keep the process alive.
    return (this.client ??= import('kubo-rpc-client').then(({ create }) => create({ url: this.apiUrl })));
  }

  async open(target: FetchTarget, signal: AbortSignal): Promise<FetchBody> {
    const { parseCid } = await import('./cid.js');
    const cidText = await cidFor(target);
    if (!parseCid(cidText)) {
      throw new PingetError('NOT_FOUND', `${this.label}: "/ipfs/${cidText}" for ${target.path} is not a valid CID; fix or drop that lockfile line`);
    }
    const where = `${this.label}: /ipfs/${cidText} (${target.path})`;
    // An idle timer: the first bytes must come within timeoutMs, and so must every later chunk. A node
    // that cannot find a CID keeps searching the network, so this is how "not retrievable" shows.
    const idle = new AbortController();
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        idle.abort();
      }, this.timeoutMs);
    };
    const both = AbortSignal.any([signal, idle.signal]);
    const notRetrievable = () =>
      new PingetError('NOT_FOUND', `${where}: not retrievable within ${this.timeoutMs / 1000}s; is the CID pinned on a reachable node?`);
    const mapError = async (e: unknown): Promise<unknown> => {
      if (signal.aborted) return signal.reason ?? e;
      if (timedOut) return notRetrievable();
      if (isConnectionFailure(e)) {
        return new PingetError(
          'UNAVAILABLE',
          `${this.label}: no IPFS RPC endpoint at ${this.apiUrl} (${reasonOf((e as Error).cause ?? e)}); start a Kubo node (ipfs daemon) or point --ipfs-api / IPFS_API at one`,
          { cause: e },
        );
      }
      if ((e as Error)?.name === 'HTTPError') return new PingetError('NOT_FOUND', `${where}: ${await rpcMessage(e)}`, { cause: e });
      return new PingetError('UNAVAILABLE', `${where}: ${reasonOf(e)}`, { cause: e });
    };

    const client = await this.rpc();
    arm();
    const it = client.cat(cidText, { signal: both })[Symbol.asyncIterator]();
    let first: IteratorResult<Uint8Array>;
    try {
      first = await it.next();
    } catch (e) {
      throw await mapError(e);
    } finally {
      clearTimeout(timer);
    }
    async function* body(): AsyncGenerator<Uint8Array> {
      try {
        let r = first;
        while (!r.done) {
          if (r.value.length > 0) yield r.value;
          // Timed only while waiting on the node, not while the reader applies backpressure.
          arm();
          r = await it.next();
          clearTimeout(timer);
        }
      } catch (e) {
        throw await mapError(e);
      } finally {
        clearTimeout(timer);
        // Stop the request when the reader gives up early.
        if (!both.aborted) idle.abort();
        await it.return?.(undefined)?.catch(() => {});
      }
    }
    return { stream: Readable.from(body(), { objectMode: false }) };
  }

  async close(): Promise<void> {}
}

/** Endpoint precedence: the template's ipfs+api://HOST:PORT, then --ipfs-api, then IPFS_API, then the default. */
export function createIpfsProviderFactory(env: NodeJS.ProcessEnv = process.env): ProviderFactory {
  return (template: string, ctx: ProviderContext) => {
    const api = /^ipfs\+api:\/\/([^/?#]+)\/?(\{\{\.CID\}\})?$/i.exec(template);
    if (api) return new IpfsProvider(ipfsApiUrl(api[1]), ctx.timeoutMs);
    if (/^ipfs\+api:/i.test(template)) throw new PingetError('USAGE', `bad provider "${template}": expected ipfs+api://HOST:PORT`);
    if (!/^ipfs:/i.test(template)) return undefined;
    if (!/^ipfs:\/\/(\{\{\.CID\}\})?$/i.test(template)) {
      throw new PingetError('USAGE', `bad provider "${template}": expected ipfs:// (the RPC endpoint comes from --ipfs-api or IPFS_API) or ipfs+api://HOST:PORT`);
    }
    return new IpfsProvider(ipfsApiUrl(ctx.ipfsApi || env.IPFS_API || DEFAULT_IPFS_API), ctx.timeoutMs);
  };
}

export const ipfsProviderFactory: ProviderFactory = (template, ctx) => createIpfsProviderFactory()(template, ctx);
