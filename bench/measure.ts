/**
 * Whole-process measurements: wall time around spawn and exit, peak RSS from GNU time's `%M` (the largest
 * resident set of the process or of any child it waited for), medians over interleaved A/B rounds.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const GNU_TIME = '/usr/bin/time';

export interface Cmd {
  /** A function when the arguments change per run (evaluated after `before`). */
  argv: string[] | (() => string[]);
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Exit codes that count as success (default 0 only). */
  okCodes?: number[];
  /** Untimed set-up before each run (a fresh output directory, ...). */
  before?: () => Promise<void>;
  /** Untimed clean-up after each run. */
  after?: () => Promise<void>;
}

export interface Sample {
  seconds: number;
  maxRssKiB: number;
}

let scratch: string | undefined;

/** Runs one command under GNU time with stdout and stderr discarded; rejects when it fails. */
export async function timeProcess(cmd: Cmd): Promise<Sample> {
  scratch ??= await mkdtemp(join(tmpdir(), 'pinget-bench-'));
  const rssFile = join(scratch, 'rss');
  await cmd.before?.();
  const argv = typeof cmd.argv === 'function' ? cmd.argv() : cmd.argv;
  const started = process.hrtime.bigint();
  const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve, reject) => {
    const child = spawn(GNU_TIME, ['-f', '%M', '-o', rssFile, '--', ...argv], {
      cwd: cmd.cwd,
      env: cmd.env ?? process.env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c ?? -1, stderr: err }));
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await cmd.after?.();
  if (!(cmd.okCodes ?? [0]).includes(code)) {
    throw new Error(`${argv.slice(0, 4).join(' ')} ... exited ${code}: ${stderr.trim().split('\n').slice(-5).join(' | ')}`);
  }
  // GNU time writes "Command exited with non-zero status N" before the figure when the command fails.
  const lines = (await readFile(rssFile, 'utf8')).trim().split('\n');
  return { seconds, maxRssKiB: Number(lines[lines.length - 1]) };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface Pair {
  pinget: Sample;
  reference: Sample;
}

/** `rounds` runs of each, interleaved (A B, B A, A B ...) so that drifting load hits both alike; medians. */
export async function comparePair(pinget: Cmd, reference: Cmd, rounds: number): Promise<Pair> {
  const a: Sample[] = [];
  const b: Sample[] = [];
  for (let i = 0; i < rounds; i++) {
    if (i % 2 === 0) {
      a.push(await timeProcess(pinget));
      b.push(await timeProcess(reference));
    } else {
      b.push(await timeProcess(reference));
      a.push(await timeProcess(pinget));
    }
  }
  const med = (xs: Sample[]): Sample => ({ seconds: median(xs.map((x) => x.seconds)), maxRssKiB: median(xs.map((x) => x.maxRssKiB)) });
  return { pinget: med(a), reference: med(b) };
}

export interface Figure {
  what: string;
  pair?: Pair;
  /** pinget's median time / the reference's; the target is an upper bound on it. */
  maxRatio: number;
  /** Upper bound on pinget's peak RSS, MiB, when the figure has one. */
  maxRssMiB?: number;
  /** Why there is no pair (a skipped figure). */
  skipped?: string;
}

export function figureLine(f: Figure): string {
  if (!f.pair) return `${f.what}: skipped (${f.skipped})`;
  const { pinget, reference } = f.pair;
  const ratio = pinget.seconds / reference.seconds;
  const mib = (k: number) => `${(k / 1024).toFixed(0)} MiB`;
  const rssOk = f.maxRssMiB === undefined || pinget.maxRssKiB / 1024 <= f.maxRssMiB;
  const pass = ratio <= f.maxRatio && rssOk;
  const target = `<= ${f.maxRatio.toFixed(2)}x${f.maxRssMiB === undefined ? '' : `, <= ${f.maxRssMiB} MiB`}`;
  return [
    f.what,
    `pinget ${pinget.seconds.toFixed(3)} s`,
    `reference ${reference.seconds.toFixed(3)} s`,
    `ratio ${ratio.toFixed(2)}x`,
    `target ${target}`,
    pass ? 'PASS' : 'FAIL',
    `peak ${mib(pinget.maxRssKiB)} (reference ${mib(reference.maxRssKiB)})`,
  ].join(' | ');
}

export async function cleanScratch(): Promise<void> {
  if (scratch) await rm(scratch, { recursive: true, force: true });
}
