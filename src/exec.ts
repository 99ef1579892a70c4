/** Child processes without a shell: arguments are passed as they are, never interpreted. */
import { spawn, type SpawnOptions } from 'node:child_process';
import { PingetError, type ErrorCode } from './errors.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  /** Error code when the command is missing (default UNAVAILABLE) and how to install it. */
  missingHint?: string;
  signal?: AbortSignal;
}

/** Runs a command to completion, collecting its output. Rejects only when it cannot start. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const spawnOpts: SpawnOptions = { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], signal: opts.signal };
    const child = spawn(cmd, args, spawnOpts);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        reject(new PingetError('UNAVAILABLE', `${cmd} is not installed${opts.missingHint ? `: ${opts.missingHint}` : ''}`, { cause: e }));
      } else reject(e);
    });
    child.on('close', (code, sig) =>
      resolve({ code: code ?? (sig ? 128 : -1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
    child.stdin!.on('error', () => {});
    child.stdin!.end(opts.input ?? '');
  });
}

/** Lines of a tool's output that say why it failed: error/failure lines, not (for example) a configuration dump. */
const REASON = /(^|[^\w-])(errors?|failed|failure|fatal|cannot|can't|unable|denied|refused|not found|no such|conflicts with)(?![\w-])/i;

/**
 * The output's lines, trimmed, with a reason line that ends in ':' joined to the indented lines under it
 * (at most 3): dpkg says "dpkg: error processing archive X (--install):" and the why on the next, indented
 * line; dnf puts its "Problem:" under "Error:".
 */
function reasonLines(output: string): string[] {
  const raw = output.split('\n');
  const lines: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    let line = raw[i].trim();
    if (line.endsWith(':') && REASON.test(line)) {
      for (let n = 0; n < 3 && i + 1 < raw.length && /^\s+\S/.test(raw[i + 1]); n++) line += ` ${raw[++i].trim()}`;
    }
    if (line) lines.push(line);
  }
  return lines;
}

/**
 * Why a tool failed, in at most `max` lines: its lines that say so (dnf, for one, dumps its whole configuration
 * before the error, so the last lines would hide it), else its last lines.
 */
export function failureReason(output: string, max = 5): string[] {
  const lines = reasonLines(output);
  const reasons = [...new Set(lines.filter((l) => REASON.test(l)))];
  return reasons.length > 0 ? reasons.slice(0, max) : lines.slice(-max);
}

/** Runs a command and throws a PingetError with the stderr lines that say why when it exits non-zero. */
export async function runChecked(cmd: string, args: string[], code: ErrorCode, opts: RunOptions = {}): Promise<RunResult> {
  const res = await run(cmd, args, opts);
  if (res.code !== 0) {
    const output = res.stderr.trim() ? res.stderr : res.stdout;
    const why = failureReason(output).join('; ');
    throw new PingetError(code, `${cmd} ${args[0] ?? ''} failed (exit ${res.code})${why ? `: ${why}` : ''}`, {
      details: failureReason(output, 20),
    });
  }
  return res;
}
