/**
 * The oras CLI in a child process, without a shell: short calls through src/exec.ts, and
 * `oras blob fetch --output -` streamed. Credentials are oras's own (`oras login`, the docker config
 * file); pinget passes none and stores none.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import { PingetError } from '../errors.js';
import { run, type RunResult } from '../exec.js';
import { classifyOrasError, orasErrorLine, type OciRepo } from './oci-ref.js';

export const ORAS_MISSING_HINT =
  'install the oras CLI (Debian 13 "trixie" and later: apt-get install oras; elsewhere the oras project\'s release binary), or set PINGET_ORAS to its path';

export interface OrasOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  signal?: AbortSignal;
  /** runOrasLines: kill oras when it prints nothing for this long, milliseconds (a registry that never answers). */
  idleMs?: number;
}

/** The oras executable: $PINGET_ORAS, else `oras` on PATH. */
export function orasCommand(env: NodeJS.ProcessEnv = process.env): string {
  return env.PINGET_ORAS || 'oras';
}

/** oras flags shared by every call against this registry. */
export function orasRemoteFlags(repo: OciRepo): string[] {
  return ['--no-tty', ...(repo.plainHttp ? ['--plain-http'] : [])];
}

/**
 * The registry refused our credentials (or wants some). Not a reason to try the next provider
 * quietly: a misconfigured login is for the user to fix, so batch fetches stop the run with it.
 */
export class RegistryAuthError extends PingetError {
  constructor(target: string, line: string) {
    super('UNAVAILABLE', `${target}: the registry refused authentication (${line}); log in with \`oras login HOST\` or docker's config, pinget stores no credentials`);
  }
}

function missing(cmd: string, cause: unknown): PingetError {
  return new PingetError('UNAVAILABLE', `${cmd} is not installed: ${ORAS_MISSING_HINT}`, { cause });
}

/** Maps a failed oras call to the error the provider chain understands. */
export function orasFailure(stderr: string, code: number, target: string): PingetError {
  const line = orasErrorLine(stderr) || `oras exited with ${code}`;
  const details = stderr.trim() ? stderr.trim().split('\n').slice(-10) : [];
  switch (classifyOrasError(stderr)) {
    case 'not-found':
      return new PingetError('NOT_FOUND', `${target}: not in the registry (${line})`, { details });
    case 'auth':
      // One line: oras's own line is in the message, the rest of its output says nothing more.
      return new RegistryAuthError(target, line);
    case 'tls':
      return new PingetError('UNAVAILABLE', `${target}: TLS failed (${line}); for a registry without TLS use oci+http://`, { details });
    case 'unreachable':
      return new PingetError('UNAVAILABLE', `${target}: registry unreachable (${line})`, { details });
    case 'integrity':
      return new PingetError('INTEGRITY', `${target}: the registry served bytes that do not match the digest (${line})`, { details });
    default:
      return new PingetError('UNAVAILABLE', `${target}: oras failed (exit ${code}): ${line}`, { details });
  }
}

/** Runs oras to completion; a non-zero exit becomes a mapped PingetError. */
export async function runOras(args: string[], target: string, opts: OrasOptions = {}): Promise<RunResult> {
  const cmd = orasCommand(opts.env);
  let res: RunResult;
  try {
    res = await run(cmd, args, { env: opts.env, cwd: opts.cwd, signal: opts.signal, missingHint: ORAS_MISSING_HINT });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw missing(cmd, e);
    throw e;
  }
  if (res.code !== 0) throw orasFailure(res.stderr, res.code, target);
  return res;
}

const STDERR_CAP = 64 * 1024;

/**
 * Runs oras to completion, handing each line of its output to onLine as it comes (oras's per-blob
 * status lines); a non-zero exit becomes a mapped PingetError. Aborting the signal kills oras.
 */
export function runOrasLines(args: string[], target: string, onLine: (line: string) => void, opts: OrasOptions = {}): Promise<void> {
  const cmd = orasCommand(opts.env);
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(opts.signal.reason);
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], signal: opts.signal, killSignal: 'SIGKILL' });
    let stderr = '';
    let rest = '';
    let idle: NodeJS.Timeout | undefined;
    let silent = false;
    const awake = () => {
      if (!opts.idleMs) return;
      clearTimeout(idle);
      idle = setTimeout(() => {
        silent = true;
        child.kill('SIGKILL');
      }, opts.idleMs);
    };
    awake();
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      awake();
      const lines = (rest + d).split('\n');
      rest = lines.pop()!;
      for (const l of lines) onLine(l);
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      awake();
      if (stderr.length < STDERR_CAP) stderr += d;
    });
    let failed = false;
    child.on('error', (e: NodeJS.ErrnoException) => {
      // Aborted: oras was sent SIGKILL; 'close' says when it is gone (the caller may remove its output then).
      if (opts.signal?.aborted && child.pid !== undefined) return;
      clearTimeout(idle);
      failed = true;
      reject(e.code === 'ENOENT' ? missing(cmd, e) : new PingetError('UNAVAILABLE', `${target}: cannot run ${cmd}: ${e.message}`, { cause: e }));
    });
    child.on('close', (code, sig) => {
      clearTimeout(idle);
      if (failed) return;
      if (rest) onLine(rest);
      if (opts.signal?.aborted) return reject(opts.signal.reason);
      if (silent) return reject(new PingetError('UNAVAILABLE', `${target}: registry unreachable (no answer for ${opts.idleMs! / 1000} s; --timeout)`));
      const status = code ?? (sig ? 128 : -1);
      if (status === 0) resolve();
      else reject(orasFailure(stderr, status, target));
    });
  });
}

export interface OrasStream {
  stream: Readable;
  child: ChildProcess;
}

/**
 * Starts oras with its stdout as a stream. Resolves once the first bytes arrive (or oras exits 0
 * with none), so "not found" and "unreachable" reject here and the chain moves on at once.
 * The stream ends only after oras exits 0; a later failure (e.g. oras's own digest check) errors it.
 * Aborting the signal or destroying the stream kills oras.
 */
export function streamOras(args: string[], target: string, opts: OrasOptions = {}): Promise<OrasStream> {
  const cmd = orasCommand(opts.env);
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(opts.signal.reason ?? new Error('aborted'));
      return;
    }
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const body = new PassThrough();
    // oras can fail before the reader has attached its listeners (a small blob, then a digest error):
    // the error stays on the destroyed stream (stream.errored) for pipeline() to report, not crash.
    body.on('error', () => {});
    let stderr = '';
    let settled = false;
    let exited = false;
    const kill = () => {
      if (!exited) child.kill('SIGKILL');
    };
    const onAbort = () => {
      kill();
      const reason = opts.signal?.reason ?? new Error('aborted');
      if (!settled) {
        settled = true;
        reject(reason);
      }
      body.destroy(reason instanceof Error ? reason : new Error(String(reason)));
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < STDERR_CAP) stderr += d;
    });
    let spawnFailed = false;
    child.on('error', (e: NodeJS.ErrnoException) => {
      exited = true;
      spawnFailed = true;
      opts.signal?.removeEventListener('abort', onAbort);
      const err = e.code === 'ENOENT' ? missing(cmd, e) : new PingetError('UNAVAILABLE', `${target}: cannot run ${cmd}: ${e.message}`, { cause: e });
      if (!settled) {
        settled = true;
        reject(err);
      } else body.destroy(err);
    });
    const out = child.stdout!;
    const onReadable = () => {
      // 'readable' also fires at end of stream: only real bytes settle it; an empty end waits for the exit code.
      if (out.readableLength === 0 || settled) return;
      settled = true;
      out.off('readable', onReadable);
      out.pipe(body, { end: false });
      resolve({ stream: body, child });
    };
    out.on('readable', onReadable);
    child.on('close', (code, sig) => {
      exited = true;
      if (spawnFailed) return; // already reported by 'error'
      opts.signal?.removeEventListener('abort', onAbort);
      const status = code ?? (sig ? 128 : -1);
      if (!settled) {
        settled = true;
        out.off('readable', onReadable);
        if (status === 0) {
          // An empty blob: nothing to stream.
          body.end();
          resolve({ stream: body, child });
        } else reject(orasFailure(stderr, status, target));
        return;
      }
      if (status === 0) body.end();
      else if (classifyOrasError(stderr) === 'integrity') {
        // oras's own digest check failed after it streamed every byte: end the stream and let the
        // caller's hash decide (it cannot pass: these bytes do not match the digest). Same verdict, one path.
        body.end();
      } else if (!body.destroyed) body.destroy(orasFailure(stderr, status, target));
    });
    // The reader gave up (mismatch seen, chain aborted): stop oras too.
    body.on('close', kill);
  });
}
