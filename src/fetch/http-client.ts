/**
 * One shared undici Agent (keep-alive) for every HTTP request pinget makes, with retries:
 * exponential backoff with full jitter on 5xx, 429 and connection errors that happen before the body,
 * `Retry-After` honoured on 429/503 up to the timeout, and an optional per-host cap on concurrent requests.
 * Not retried: DNS failures (the resolver has already retried its servers) and timeouts (a host that
 * hung once is likely to hang again; see host-health.ts). undici is loaded on the first request, so
 * commands that make none (`--help`, `hash generate`) do not pay for it.
 * Errors after the headers (a reset mid-body) surface on the body stream; the caller decides what next
 * (http-download.ts resumes).
 */
import type { Agent, Dispatcher } from 'undici';
import { PingetError, reasonOf } from '../errors.js';
import { hostAnswered, hostDown, hostTimedOut, hostUnresolvable, trackRequest } from './host-health.js';

export interface HttpRequestOptions {
  signal?: AbortSignal;
  /** Headers timeout and body idle timeout, milliseconds; also the longest Retry-After waited for. */
  timeoutMs: number;
  /** TCP (and TLS) connect timeout, milliseconds. Default 15 s. */
  connectTimeoutMs?: number;
  /** Retries after the first attempt (0 = one attempt only). */
  retries: number;
  method?: 'GET' | 'HEAD' | 'POST';
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** At most this many requests to the URL's host at a time, across the process (held until the body is done). */
  maxPerHost?: number;
  /** First backoff delay; doubles each retry. Default 250 ms. */
  baseDelayMs?: number;
  /** Longest backoff. Default 30 s, and never more than timeoutMs. */
  maxDelayMs?: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** A Readable (undici's BodyReadable: also has dump(), text(), json()). */
  body: Dispatcher.ResponseData['body'];
  /** The attempts made, 1 when the first one answered. */
  attempts: number;
}

/**
 * The three parts of undici pinget uses, loaded by path: its index also loads fetch, WebSocket, the
 * caches and the mocks, about twice the start-up cost (undici's package has no "exports" map, so the
 * paths are public; the major version is pinned in package.json).
 */
interface UndiciParts {
  Agent: typeof import('undici/lib/dispatcher/agent.js').default;
  request: typeof import('undici/lib/api/api-request.js').default;
  redirect: typeof import('undici/lib/interceptor/redirect.js').default;
}
let undici: Promise<UndiciParts> | undefined;
/** One agent per connect timeout (a run uses one); keyed so a library caller may mix them. */
const agents = new Map<number, { agent: Agent; dispatcher: Dispatcher }>();
/** Mirrors redirect (http to https, a CDN, a mirror director); the hash, not the host, is what is trusted. */
const MAX_REDIRECTS = 5;

function loadUndici(): Promise<UndiciParts> {
  // Literal specifiers, so that esbuild puts them in the bundle.
  return (undici ??= Promise.all([import('undici/lib/dispatcher/agent.js'), import('undici/lib/api/api-request.js'), import('undici/lib/interceptor/redirect.js')]).then(
    ([agent, request, redirect]) => ({ Agent: agent.default, request: request.default, redirect: redirect.default }),
  ));
}

async function sharedAgent(connectTimeoutMs: number): Promise<{ request: UndiciParts['request']; dispatcher: Dispatcher }> {
  const u = await loadUndici();
  let a = agents.get(connectTimeoutMs);
  if (!a) {
    const agent = new u.Agent({ keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000, connect: { timeout: connectTimeoutMs } });
    a = { agent, dispatcher: agent.compose(u.redirect({ maxRedirections: MAX_REDIRECTS })) };
    agents.set(connectTimeoutMs, a);
  }
  return { request: u.request, dispatcher: a.dispatcher };
}

/** Closes the shared agents' connections; the next request makes new ones. Call at exit. */
export async function closeHttp(): Promise<void> {
  const all = [...agents.values()].map((a) => a.agent);
  agents.clear();
  await Promise.all(all.map((a) => a.close().catch(() => a.destroy())));
}

/** The errno-like code of an error or of its causes (undici wraps some). */
export function errorCode(e: unknown): string | undefined {
  for (let c = e, depth = 0; c && typeof c === 'object' && depth < 5; c = (c as { cause?: unknown }).cause, depth++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** The resolver said the name does not exist or could not be resolved: asking again will not help. */
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL', 'EAI_NODATA']);
/** The host did not answer in time. */
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

export function isDnsFailure(e: unknown): boolean {
  return DNS_CODES.has(errorCode(e) ?? '');
}

export function isTimeout(e: unknown): boolean {
  return TIMEOUT_CODES.has(errorCode(e) ?? '');
}

export function hostOf(url: string): string {
  return new URL(url).host;
}

/** A counting semaphore per host, for servers that ask for few concurrent connections. */
class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly max: number) {}

  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.active >= this.max) {
      await new Promise<void>((resolve, reject) => {
        const go = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          const i = this.waiting.indexOf(go);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(signal!.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(go);
      });
    } else {
      this.active++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next(); // the slot passes straight to the next waiter
      else this.active--;
    };
  }
}

const gates = new Map<string, Gate>();

function gateFor(host: string, max: number): Gate {
  const key = `${host}\0${max}`;
  let g = gates.get(key);
  if (!g) gates.set(key, (g = new Gate(max)));
  return g;
}

/** Milliseconds to wait from a Retry-After header (delta-seconds or an HTTP date), if it is valid. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const date = Date.parse(v);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

function backoff(attempt: number, base: number, max: number): number {
  // Full jitter: a random wait up to the exponential bound, so parallel downloads do not retry in step.
  return Math.random() * Math.min(max, base * 2 ** attempt);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function retryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** Redacts a password in a URL for messages (templates keep their braces: no URL round trip). */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, '$1:***@');
}

/**
 * Sends a request, retrying as described above. Resolves with the last response, whatever its status
 * (a 5xx after all retries too); rejects with UNAVAILABLE when no response came at all, or with the
 * signal's reason when aborted.
 */
export async function httpRequest(url: string, opts: HttpRequestOptions): Promise<HttpResponse> {
  const base = opts.baseDelayMs ?? 250;
  const maxDelay = Math.min(opts.maxDelayMs ?? 30_000, opts.timeoutMs);
  const method = opts.method ?? 'GET';
  const host = hostOf(url);
  const gate = opts.maxPerHost ? gateFor(host, opts.maxPerHost) : undefined;
  const { request, dispatcher } = await sharedAgent(opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  for (let attempt = 0; ; attempt++) {
    opts.signal?.throwIfAborted();
    const down = hostDown(host);
    if (down) throw down;
    const release = gate ? await gate.acquire(opts.signal) : () => {};
    const tracked = trackRequest(host, opts.signal);
    const finish = () => {
      tracked.done();
      release();
    };
    let status: number;
    let retryAfter: number | undefined;
    let handedOff = false;
    try {
      const target = new URL(url);
      const res = await request.call(dispatcher, {
        origin: target.origin,
        path: `${target.pathname}${target.search}`,
        method,
        headers: opts.headers,
        body: opts.body,
        signal: tracked.signal,
        headersTimeout: opts.timeoutMs,
        bodyTimeout: opts.timeoutMs,
        // Bigger reads than the 64 KiB default: fewer chunks through the hash and the file writer.
        highWaterMark: 1 << 20,
      });
      status = res.statusCode;
      if (status === 429 || status === 503) retryAfter = parseRetryAfter(res.headers['retry-after']);
      const tooLong = retryAfter !== undefined && retryAfter > opts.timeoutMs && attempt < opts.retries;
      if (!retryableStatus(status) || attempt >= opts.retries || tooLong) {
        // The gate slot is held until the body is consumed, destroyed or fails.
        handedOff = true;
        res.body.once('close', finish);
        res.body.once('end', () => hostAnswered(host));
        res.body.on('error', (e) => {
          if (isTimeout(e)) hostTimedOut(host);
        });
        // (That listener also matters for another reason: undici turns a plain destroy() of an unfinished
        // body into an 'error' event, which would crash the process with no listener. Consumers still see
        // errors through pipeline, for-await, text().)
        if (tooLong) {
          res.body.destroy();
          throw new PingetError(
            'UNAVAILABLE',
            `${method} ${redactUrl(url)}: HTTP ${status} asks to retry after ${Math.ceil(retryAfter! / 1000)} s, longer than the timeout (${Math.ceil(opts.timeoutMs / 1000)} s); giving up on it`,
          );
        }
        return { status, headers: res.headers, body: res.body, attempts: attempt + 1 };
      }
      await res.body.dump().catch(() => {});
      hostAnswered(host);
      finish();
    } catch (e) {
      if (handedOff) throw e;
      finish();
      if (opts.signal?.aborted) throw opts.signal.reason;
      const nowDown = hostDown(host);
      if (nowDown) throw nowDown;
      const where = `${method} ${redactUrl(url)}`;
      if (isTimeout(e)) {
        hostTimedOut(host);
        throw new PingetError('UNAVAILABLE', `${where}: ${reasonOf(e)} (not retried: a host that hung once likely hangs again)`, { cause: e });
      }
      if (isDnsFailure(e)) {
        hostUnresolvable(host, reasonOf(e));
        throw new PingetError('UNAVAILABLE', `${where}: ${reasonOf(e)} (DNS failure, not retried)`, { cause: e });
      }
      if (attempt >= opts.retries) {
        throw new PingetError('UNAVAILABLE', `${where}: ${reasonOf(e)} (after ${attempt + 1} attempts)`, { cause: e });
      }
    }
    await sleep(Math.min(maxDelay, retryAfter ?? backoff(attempt, base, maxDelay)), opts.signal);
  }
}

/** Reads a whole small body (an index, a metalink, an API answer); past maxBytes it stops and throws tooLarge(). */
export async function readBodyCapped(body: AsyncIterable<unknown> & { destroy(): void }, maxBytes: number, tooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of body) {
    size += (c as Buffer).length;
    if (size > maxBytes) {
      body.destroy();
      throw tooLarge();
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
