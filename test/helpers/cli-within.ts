/** Runs the CLI from source with a hard deadline: a hang is a failure (killed, `killed: true`), not a stuck suite. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './cli.js';

export interface TimedResult {
  code: number | null;
  stderr: string;
  ms: number;
  killed: boolean;
}

export function cliWithin(args: string[], ms: number, opts: { signalAfterMs?: { signal: NodeJS.Signals; ms: number } } = {}): Promise<TimedResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(REPO_ROOT, 'src', 'cli.ts'), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let killed = false;
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, ms);
    const signal = opts.signalAfterMs;
    const signalTimer = signal && setTimeout(() => child.kill(signal.signal), signal.ms);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (signalTimer) clearTimeout(signalTimer);
      resolve({ code, stderr, ms: Date.now() - started, killed });
    });
  });
}
