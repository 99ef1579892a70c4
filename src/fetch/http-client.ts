/**
 * One shared undici Agent (keep-alive) for every HTTP request pinget makes, with retries:
 * exponential backoff with full jitter on 5xx, 429 and connection errors that happen before the body,
 * `Retry-After` honoured on 429/503, and an optional per-host cap on concurrent requests.
 * Errors after the headers (a reset mid-body) surface on the body stream; the caller decides what next.
 */
import type { Agent, Dispatcher } from 'undici';
import { PingetError, reasonOf } from '../errors.js';

export interface HttpRequestOptions {
  signal?: AbortSignal;
  /** Headers timeout and body idle timeout, milliseconds. */
  timeoutMs: number;
  /** Retries after the first attempt (0 = one attempt only). */
  retries: number;
  method?: 'GET' | 'HEAD' | 'POST';
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** At most this many requests to the URL's host at a time, across the process (held until the body is done). */
  maxPerHost?: number;
  /** First backoff delay; doubles each retry. Default 250 ms. */
  baseDelayMs?: number;
  /** Longest wait for a Retry-After or a backoff. Default 30 s. */
  maxDelayMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** A Readable (undici's BodyReadable: also has dump(), text(), json()). */
  body: Dispatcher.ResponseData['body'];
  /** The attempts made, 1 when the first one answered. */
  attempts: number;
}

let agent: Agent | undefined;
let dispatcher: Dispatcher | undefined;
/** Mirrors redirect (http to https, a CDN, a mirror director); the hash, not the host, is what is trusted. */
const MAX_REDIRECTS = 5;

// undici (~100 ms to load) is loaded by the first request, not by every command that might make one.
let undici: typeof import('undici') | undefined;

async function sharedAgent(): Promise<Dispatcher> {
  undici ??= await import('undici');
  const { Agent, interceptors } = undici;
  if (!dispatcher) {
    agent = new Agent({ keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000, connect: { timeout: 30_000 } });
    dispatcher = agent.compose(interceptors.redirect({ maxRedirections: MAX_REDIRECTS }));
  }
  return dispatcher;
}

/** Closes the shared agent's connections; the next request makes a new agent. Call at exit. */
export async function closeHttp(): Promise<void> {
  const a = agent;
  agent = undefined;
  dispatcher = undefined;
  if (a) await a.close().catch(() => a.destroy());
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
  const maxDelay = opts.maxDelayMs ?? 30_000;
  const gate = opts.maxPerHost ? gateFor(new URL(url).host, opts.maxPerHost) : undefined;
  for (let attempt = 0; ; attempt++) {
    opts.signal?.throwIfAborted();
    const release = gate ? await gate.acquire(opts.signal) : () => {};
    let status: number;
    let retryAfter: number | undefined;
    try {
      const shared = await sharedAgent();
      const res = await undici!.request(url, {
        dispatcher: shared,
        method: opts.method ?? 'GET',
        headers: opts.headers,
        body: opts.body,
        signal: opts.signal,
        headersTimeout: opts.timeoutMs,
        bodyTimeout: opts.timeoutMs,
        // Bigger reads than the 64 KiB default: fewer chunks through the hash and the file writer.
        highWaterMark: 1 << 20,
      });
      status = res.statusCode;
      if (!retryableStatus(status) || attempt >= opts.retries) {
        // The gate slot is held until the body is consumed, destroyed or fails.
        res.body.once('close', release);
        // undici turns a plain destroy() of an unfinished body into an 'error' event; with no listener
        // that would crash the process. Consumers still see errors through pipeline, for-await, text().
        res.body.on('error', () => {});
        return { status, headers: res.headers, body: res.body, attempts: attempt + 1 };
      }
      if (status === 429 || status === 503) retryAfter = parseRetryAfter(res.headers['retry-after']);
      await res.body.dump().catch(() => {});
      release();
    } catch (e) {
      release();
      if (opts.signal?.aborted) throw opts.signal.reason;
      if (attempt >= opts.retries) {
        throw new PingetError('UNAVAILABLE', `${opts.method ?? 'GET'} ${redactUrl(url)}: ${reasonOf(e)} (after ${attempt + 1} attempts)`, { cause: e });
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
