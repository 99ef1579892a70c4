/**
 * src/interrupt.ts: the first SIGINT/SIGTERM only aborts (the command unwinds and cleans up); a second one
 * exits at once, for an unwind that hangs. A child process asks for the signal and then never unwinds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { REPO_ROOT } from './helpers/cli.js';

const TSX = import.meta.resolve('tsx');

async function stuckChild(first: NodeJS.Signals, second: NodeJS.Signals): Promise<{ code: number | null; stderr: string; afterFirst: string }> {
  const mod = pathToFileURL(join(REPO_ROOT, 'src/interrupt.ts')).href;
  // Aborts are noticed (printed), but the "unwind" never ends: a timer keeps the process alive for a minute.
  const script = `const { interruptSignal } = await import(${JSON.stringify(mod)});
const signal = interruptSignal();
signal.addEventListener('abort', () => process.stdout.write('aborted\\n'));
setTimeout(() => {}, 60_000);
process.stdout.write('ready\\n');`;
  const child = spawn(process.execPath, ['--import', TSX, '--input-type=module', '-e', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  try {
    while (!stdout.includes('ready')) await new Promise((r) => setTimeout(r, 20));
    child.kill(first);
    while (!stdout.includes('aborted')) await new Promise((r) => setTimeout(r, 20));
    // Still running after the first signal: it waits for the unwind.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(child.exitCode, null, 'the first signal alone does not exit');
    const afterFirst = stderr;
    child.kill(second);
    const [code] = await Promise.race([exited, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('no exit 5 s after the second signal')), 5000))]);
    return { code, stderr, afterFirst };
  } finally {
    child.kill('SIGKILL');
  }
}

test('a second SIGINT exits at once with 130 while the first one is still unwinding', async () => {
  const r = await stuckChild('SIGINT', 'SIGINT');
  assert.equal(r.afterFirst, '');
  assert.equal(r.code, 130);
  assert.equal(r.stderr, 'pinget: interrupted\n');
});

test('SIGTERM then SIGINT: the exit code is the first signal\'s (143)', async () => {
  const r = await stuckChild('SIGTERM', 'SIGINT');
  assert.equal(r.code, 143);
  assert.equal(r.stderr, 'pinget: interrupted\n');
});
