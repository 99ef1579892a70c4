/** Runs the pinget CLI from source in a child process, as a user would. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(REPO_ROOT, 'src', 'cli.ts');
/** tsx's loader by URL, so the CLI runs from any working directory. */
const TSX = import.meta.resolve('tsx');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * timeoutMs: SIGKILL the child after that long (a hang then shows as code -1 instead of a stuck suite).
 * prefix: a command that runs node, e.g. `setpriv --reuid=N ... --` to run the CLI as another user.
 */
export function runCli(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string; timeoutMs?: number; prefix?: string[] } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const argv = [...(opts.prefix ?? []), process.execPath, '--import', TSX, CLI, ...args];
    const child = spawn(argv[0], argv.slice(1), {
      cwd: opts.cwd ?? REPO_ROOT,
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    // A child that reads stdin from elsewhere (a prefix `sh -c 'exec "$@" < /dev/zero'`) may close it first.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}
