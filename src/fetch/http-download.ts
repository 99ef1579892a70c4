/**
 * GET of one file's bytes over the shared client (http-client.ts), bounded and resumed:
 * - a Content-Length above maxBytes is refused before the body is read; a body that grows past
 *   its Content-Length or past maxBytes is cut at once (INTEGRITY: nothing past the cap is handed on);
 * - a body slower than speedLimit.bytesPerSecond, averaged over the last speedLimit.seconds, is
 *   abandoned (curl's --speed-limit/--speed-time); time the consumer holds the body paused does not count;
 * - a connection that fails mid-body (a reset, a close) is asked again from the byte it stopped at:
 *   with a Range request when the server said `Accept-Ranges: bytes`, else from the start, dropping
 *   what was already handed on. Timeouts are not retried (host-health.ts).
 * - free space under spoolDir is checked before a body of known length.
 * The caller hashes what it reads, so a resumed body that differs from the first shows as a mismatch.
 */
import { finished, Readable } from 'node:stream';
import { clip, PingetError, reasonOf } from '../errors.js';
import { DEFAULT_MAX_BYTES } from './byte-cap.js';
import { ensureFreeSpace } from './disk-space.js';
import { hostDown, hostTimedOut } from './host-health.js';
import { hostOf, httpRequest, isTimeout, redactUrl, type HttpResponse } from './http-client.js';
import type { FetchBody, ProviderContext } from './types.js';

export interface SpeedLimit {
  bytesPerSecond: number;
  seconds: number;
}

export const DEFAULT_SPEED_LIMIT_BPS = 1024;

export interface DownloadOptions {
  signal?: AbortSignal;
  /** Headers timeout, body idle timeout, longest Retry-After; also the default speedLimit.seconds. */
  timeoutMs: number;
  connectTimeoutMs?: number;
  /** Retries after the first attempt, before the body and mid-body together. */
  retries: number;
  /** Default DEFAULT_MAX_BYTES. */
  maxBytes?: number;
  /** Default DEFAULT_SPEED_LIMIT_BPS over timeoutMs; bytesPerSecond 0 turns it off. */
  speedLimit?: SpeedLimit;
  /** Where the body will be written (the cache's tmp dir): its free space is checked first. */
  spoolDir?: string;
  headers?: Record<string, string>;
  maxPerHost?: number;
  baseDelayMs?: number;
}

/** The network settings of a provider context, as download options (for providers that build their own). */
export function httpLimits(ctx: ProviderContext): Pick<DownloadOptions, 'timeoutMs' | 'connectTimeoutMs' | 'retries' | 'maxBytes' | 'speedLimit' | 'spoolDir'> {
  const { timeoutMs, connectTimeoutMs, retries, maxBytes, speedLimit, spoolDir } = ctx;
  return { timeoutMs, connectTimeoutMs, retries, maxBytes, speedLimit, spoolDir };
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function contentLength(headers: HttpResponse['headers']): number | undefined {
  const v = header(headers['content-length']);
  if (v === undefined || !/^\s*\d+\s*$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : Number.MAX_SAFE_INTEGER;
}

/**
 * Opens url's body for download. NOT_FOUND on 404/410, UNAVAILABLE on other statuses and network
 * failures, INTEGRITY when the Content-Length is over maxBytes.
 */
export async function httpDownload(url: string, opts: DownloadOptions): Promise<FetchBody> {
  const res = await httpRequest(url, {
    signal: opts.signal,
    timeoutMs: opts.timeoutMs,
    connectTimeoutMs: opts.connectTimeoutMs,
    retries: opts.retries,
    headers: opts.headers,
    maxPerHost: opts.maxPerHost,
    baseDelayMs: opts.baseDelayMs,
  });
  const where = redactUrl(url);
  if (res.status < 200 || res.status > 299) {
    // A short error page: read and drop it so the connection can be reused.
    await res.body.dump({ limit: 64 * 1024 }).catch(() => {});
    if (res.status === 404 || res.status === 410) throw new PingetError('NOT_FOUND', `${where}: HTTP ${res.status}`);
    const tries = res.attempts > 1 ? ` after ${res.attempts} attempts` : '';
    throw new PingetError('UNAVAILABLE', `${where}: HTTP ${res.status}${tries}`);
  }
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const length = contentLength(res.headers);
  try {
    if (length !== undefined && length > maxBytes) {
      throw new PingetError('INTEGRITY', `${where}: Content-Length ${length} bytes is more than --max-size (${maxBytes} bytes); not downloaded`);
    }
    if (length !== undefined && opts.spoolDir) await ensureFreeSpace(opts.spoolDir, length);
  } catch (e) {
    res.body.destroy();
    throw e;
  }
  return { stream: new DownloadBody(url, res, opts, length, maxBytes), size: length };
}

/** A whole small body (an index, repository metadata): a download capped at maxBytes, read into memory. */
export async function httpGetBytes(url: string, opts: DownloadOptions & { maxBytes: number }): Promise<Buffer> {
  const { stream } = await httpDownload(url, opts);
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** How often the speed is looked at; the window is speedLimit.seconds. */
const TICK_MS = 250;

class DownloadBody extends Readable {
  private inner!: Readable;
  /** Bytes handed on downstream. */
  private delivered = 0;
  /** Bytes of a restarted 200 answer still to drop (they were handed on already). */
  private skip = 0;
  /** Bytes from the network, for the speed check. */
  private received = 0;
  private retriesLeft: number;
  private innerPaused = false;
  private restarting = false;
  private readonly where: string;
  private readonly host: string;
  private readonly ranges: boolean;
  private readonly validator?: string;
  private readonly limit?: SpeedLimit;
  private timer?: NodeJS.Timeout;
  private samples: { t: number; bytes: number }[] = [];

  constructor(
    private readonly url: string,
    first: HttpResponse,
    private readonly opts: DownloadOptions,
    private readonly length: number | undefined,
    private readonly maxBytes: number,
  ) {
    super({ highWaterMark: 1 << 20 });
    // Until a consumer listens (the cache opens its temp file first), an early error must not crash
    // the process; pipeline() and for-await still see it.
    this.on('error', () => {});
    this.where = redactUrl(url);
    this.host = hostOf(url);
    this.retriesLeft = Math.max(0, opts.retries - (first.attempts - 1));
    this.ranges = /\bbytes\b/i.test(header(first.headers['accept-ranges']) ?? '');
    const etag = header(first.headers.etag);
    // If-Range takes a strong ETag or a date (RFC 9110 13.1.5): a weak one would not be honoured.
    this.validator = etag && !etag.startsWith('W/') ? etag : header(first.headers['last-modified']);
    const limit = opts.speedLimit ?? { bytesPerSecond: DEFAULT_SPEED_LIMIT_BPS, seconds: opts.timeoutMs / 1000 };
    if (limit.bytesPerSecond > 0 && limit.seconds > 0) {
      this.limit = limit;
      this.timer = setInterval(() => this.checkSpeed(), TICK_MS).unref();
    }
    this.attach(first.body);
  }

  private attach(body: Readable): void {
    this.inner = body;
    this.samples = [{ t: Date.now(), bytes: this.received }];
    body.on('data', (c: Buffer) => this.onChunk(c));
    // finished() also reports a body that failed before this listened (while free space was checked).
    body.on('error', () => {});
    finished(body, { writable: false }, (e) => {
      if (this.inner !== body) return;
      if (e) this.onInnerError(e);
      else this.onEnd();
    });
    if (this.innerPaused) body.pause();
  }

  private detach(): void {
    const body = this.inner;
    body.removeAllListeners('data');
    body.destroy();
  }

  private onChunk(chunk: Buffer): void {
    if (this.destroyed) return;
    this.received += chunk.length;
    let c = chunk;
    if (this.skip > 0) {
      if (c.length <= this.skip) {
        this.skip -= c.length;
        return;
      }
      c = c.subarray(this.skip);
      this.skip = 0;
    }
    const next = this.delivered + c.length;
    if (this.length !== undefined && next > this.length) {
      return void this.destroy(new PingetError('INTEGRITY', `${this.where}: served more than its Content-Length (${this.length} bytes); cut`));
    }
    if (next > this.maxBytes) {
      return void this.destroy(new PingetError('INTEGRITY', `${this.where}: served more than --max-size (${this.maxBytes} bytes); cut`));
    }
    this.delivered = next;
    if (!this.push(c)) {
      this.innerPaused = true;
      this.inner.pause();
    }
  }

  private onEnd(): void {
    if (this.destroyed) return;
    if (this.skip > 0 || (this.length !== undefined && this.delivered < this.length)) {
      const e = Object.assign(new Error(`the body ended after ${this.delivered} of ${this.length ?? '?'} bytes`), { code: 'PINGET_SHORT_BODY' });
      return this.onInnerError(e);
    }
    this.stopTimer();
    this.push(null);
  }

  private onInnerError(e: Error): void {
    if (this.destroyed || this.restarting) return;
    if (this.opts.signal?.aborted) return void this.destroy(this.opts.signal.reason as Error);
    const down = hostDown(this.host);
    if (down) return void this.destroy(down);
    const at = `after ${this.delivered} bytes`;
    if (isTimeout(e)) return void this.destroy(new PingetError('UNAVAILABLE', `${this.where}: ${reasonOf(e)} ${at} (not retried)`, { cause: e }));
    if (this.retriesLeft <= 0) {
      const tries = this.opts.retries > 0 ? `, after ${this.opts.retries + 1} attempts` : '';
      return void this.destroy(new PingetError('UNAVAILABLE', `${this.where}: ${reasonOf(e)} ${at}${tries}`, { cause: e }));
    }
    void this.restart(e);
  }

  /** Asks again from the first byte not handed on yet. */
  private async restart(cause: Error): Promise<void> {
    this.restarting = true;
    this.detach();
    this.retriesLeft--;
    const from = this.delivered;
    const headers: Record<string, string> = { ...this.opts.headers };
    if (this.ranges && from > 0) {
      headers.range = `bytes=${from}-`;
      if (this.validator) headers['if-range'] = this.validator;
    }
    try {
      // A short pause, jittered: a server that just dropped connections may be restarting.
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 400));
      if (this.destroyed) return;
      const res = await httpRequest(this.url, {
        signal: this.opts.signal,
        timeoutMs: this.opts.timeoutMs,
        connectTimeoutMs: this.opts.connectTimeoutMs,
        retries: this.retriesLeft,
        headers,
        maxPerHost: this.opts.maxPerHost,
        baseDelayMs: this.opts.baseDelayMs,
      });
      this.retriesLeft = Math.max(0, this.retriesLeft - (res.attempts - 1));
      if (this.destroyed) return void res.body.destroy();
      if (res.status === 206 && headers.range) {
        const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(header(res.headers['content-range']) ?? '');
        if (!m || Number(m[1]) !== from || (this.length !== undefined && m[2] !== '*' && Number(m[2]) !== this.length)) {
          res.body.destroy();
          throw new PingetError('UNAVAILABLE', `${this.where}: resuming at byte ${from}, the server answered Content-Range "${clip(header(res.headers['content-range']) ?? '', 80)}"`);
        }
      } else if (res.status === 200) {
        this.skip = from;
      } else {
        await res.body.dump({ limit: 64 * 1024 }).catch(() => {});
        throw new PingetError('UNAVAILABLE', `${this.where}: HTTP ${res.status} when asked again after "${reasonOf(cause)}" at byte ${from}`);
      }
      this.restarting = false;
      this.attach(res.body);
    } catch (e) {
      this.restarting = false;
      if (!this.destroyed) this.destroy(e as Error);
    }
  }

  private checkSpeed(): void {
    if (this.destroyed || !this.limit) return;
    const now = Date.now();
    if (this.innerPaused || this.restarting) {
      // The consumer (or a retry) holds the body: not the server's slowness.
      this.samples = [{ t: now, bytes: this.received }];
      return;
    }
    this.samples.push({ t: now, bytes: this.received });
    const windowMs = this.limit.seconds * 1000;
    const cutoff = now - windowMs;
    // Keep the newest sample at or before the window's start, and those after it.
    while (this.samples.length > 1 && this.samples[1].t <= cutoff) this.samples.shift();
    const start = this.samples[0];
    if (start.t > cutoff) return; // not watched for a whole window yet
    const rate = (this.received - start.bytes) / ((now - start.t) / 1000);
    if (rate >= this.limit.bytesPerSecond) return;
    hostTimedOut(this.host);
    this.destroy(
      new PingetError(
        'UNAVAILABLE',
        `${this.where}: slower than ${this.limit.bytesPerSecond} bytes/s over the last ${this.limit.seconds} s (--speed-limit, --speed-time); abandoned after ${this.delivered} bytes`,
        { cause: Object.assign(new Error('too slow'), { code: 'PINGET_TOO_SLOW' }) },
      ),
    );
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  override _read(): void {
    if (this.innerPaused) {
      this.innerPaused = false;
      if (!this.restarting) this.inner.resume();
    }
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.stopTimer();
    if (this.inner && !this.restarting) this.detach();
    cb(err);
  }
}
