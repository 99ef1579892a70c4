/**
 * The progress display in a real terminal: `pinget download` runs in tmux (a terminal emulator, so the final
 * screen and scrollback are what a person sees), recorded raw by `script`; a provider serves wrong bytes
 * while the bar is drawn, and the warning must be on lines of its own and still on screen at the end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { serveDirectory } from './helpers/http-server.js';
import { REPO_ROOT } from './helpers/cli.js';
import { run } from '../src/exec.js';
import { progressLine, type LineParts } from '../src/ui/progress-line.js';
import { claimLastLine, writeMessage } from '../src/ui/stderr-line.js';

const parts: LineParts = { fraction: 0.4, files: 64, total: 160, size: '145.0 MiB', rate: '12.3 MiB/s', left: '1m05s', failed: 0 };

test('the bar line fits the terminal: it shrinks, then a counter line; nothing is cropped at 50 columns', () => {
  for (const columns of [200, 120, 80, 72, 60, 50, 40, 30, 20, 12, 5, 1]) {
    const line = progressLine(parts, columns);
    assert.ok(line.length <= Math.max(1, columns - 1), `${columns}: ${line}`);
    assert.doesNotMatch(line, /\|\s*$/, `${columns}: a dangling separator`);
  }
  assert.match(progressLine(parts, 120), /^ [█░]{24} 64\/160 files \| 145\.0 MiB \| 12\.3 MiB\/s \| ETA 1m05s$/);
  const at80 = progressLine(parts, 80);
  assert.match(at80, /^ [█░]{8,24} 64\/160 files/);
  assert.ok(at80.length <= 79);
  // 50 columns: no room for a bar, every figure shown
  assert.equal(progressLine(parts, 50), '64/160 files | 145.0 MiB | 12.3 MiB/s | ETA 1m05s');
  assert.equal(progressLine(parts, 40), '64/160 files | 145.0 MiB | ETA 1m05s');
  assert.equal(progressLine({ ...parts, failed: 2 }, 30), '64/160 files | 2 failed');
  // the bar's fill follows the fraction
  assert.equal((progressLine({ ...parts, fraction: 1 }, 120).match(/█/g) ?? []).length, 24);
});

test('a message written while a display owns the line goes through it; after release, straight to the stream', () => {
  const written: string[] = [];
  const through: string[] = [];
  const stream = { write: (s: string) => written.push(s) } as unknown as NodeJS.WritableStream;
  const other = { write: (s: string) => written.push(`other:${s}`) } as unknown as NodeJS.WritableStream;
  const release = claimLastLine(stream, (t) => through.push(t));
  writeMessage(stream, 'warning\n');
  writeMessage(other, 'elsewhere\n');
  release();
  writeMessage(stream, 'after\n');
  assert.deepEqual(through, ['warning\n']);
  assert.deepEqual(written, ['other:elsewhere\n', 'after\n']);
});

/** tmux on a socket of the test's own (in its temp directory, removed with it): no other tmux is touched. */
async function tmux(sock: string, ...args: string[]) {
  return run('tmux', ['-S', sock, ...args], { missingHint: 'run .ci/setup-test (Debian package tmux)' });
}

for (const columns of [120, 80, 50]) {
  test(`in a ${columns}-column terminal a warning during the bar stays on screen, on its own lines`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'pinget-pty-'));
    const sock = join(dir, 'tmux.sock');
    t.after(async () => {
      await tmux(sock, 'kill-server').catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    });
    const repo = join(dir, 'repo');
    const lines = ['# pinget lockfile v1', '# distro: debian 12 (bookworm) amd64'];
    const names = ['bad', ...Array.from({ length: 7 }, (_, i) => `slow${i}`)];
    for (const n of names) {
      const path = `pool/main/${n[0]}/${n}/${n}_1.0-1_amd64.deb`;
      const body = Buffer.alloc(256 * 1024, n);
      await mkdir(join(repo, path, '..'), { recursive: true });
      await writeFile(join(repo, path), body);
      lines.push(`${createHash('sha256').update(body).digest('hex')}  ${path}`);
    }
    await writeFile(join(dir, 'SHA256SUMS'), lines.join('\n') + '\n');
    // the good mirror trickles every body over about two seconds, so the bar is drawn before and after the warning
    const good = await serveDirectory(repo, async (req, res, rel) => {
      const body = await readFile(join(repo, rel)).catch(() => undefined);
      if (!body) return false;
      res.writeHead(200, { 'content-length': body.length });
      for (let i = 0; i < body.length && !res.destroyed; i += 16 * 1024) {
        res.write(body.subarray(i, i + 16 * 1024));
        await sleep(120);
      }
      res.end();
      return true;
    });
    t.after(() => good.close());
    // the liar answers for one file only, with other bytes, once the bar has been drawn for a while
    const liar = await serveDirectory(repo, async (_req, res, rel) => {
      if (!rel.includes('/bad/')) {
        res.writeHead(404).end();
        return true;
      }
      await sleep(700);
      res.writeHead(200).end('not the pinned bytes');
      return true;
    });
    t.after(() => liar.close());

    const raw = join(dir, 'raw.log');
    const script = join(dir, 'run.sh');
    const cli = [process.execPath, '--import', import.meta.resolve('tsx'), join(REPO_ROOT, 'src', 'cli.ts'), 'download', join(dir, 'SHA256SUMS'), '-o', join(dir, 'out'), '--distro', 'debian', '--cache', join(dir, 'cache'), '--provider', `${liar.url}/{{.Name}}`, '--provider', `${good.url}/{{.Name}}`];
    const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    await writeFile(script, `cd ${quote(REPO_ROOT)}\nscript -qfec ${quote(cli.map(quote).join(' '))} ${quote(raw)}\necho "EXIT:$?"\nsleep 60\n`);
    const started = await tmux(sock, 'new-session', '-d', '-x', String(columns), '-y', '40', 'sh', script);
    assert.equal(started.code, 0, started.stderr);
    let screen = '';
    for (let i = 0; i < 300 && !/EXIT:\d+/.test(screen); i++) {
      await sleep(200);
      screen = (await tmux(sock, 'capture-pane', '-p', '-J', '-S', '-')).stdout;
    }
    assert.match(screen, /EXIT:0/, screen);
    const warning = /^pinget: warning: pool\/main\/b\/bad\/bad_1\.0-1_amd64\.deb: http:\/\/127\.0\.0\.1:\d+\S* served bytes that do not match the lockfile \(.*\); trying the next provider$/m;
    assert.match(screen, warning, `the warning is not whole on the final screen:\n${screen}`);
    // it was written while the bar was drawn, and the bar came back below it
    const log = await readFile(raw, 'utf8');
    const at = log.indexOf('pinget: warning:');
    assert.ok(at > 0);
    assert.match(log.slice(0, at), /\d+\/8 files/, 'the bar was drawn before the warning');
    assert.match(log.slice(at), /\d+\/8 files/, 'and again after it');
    // no bar line is wider than the terminal
    for (const l of log.split(/\r|\n|\x1b\[[0-9;?]*[A-Za-z]/)) if (/\/8 files/.test(l)) assert.ok(l.length < columns, `${l.length}: ${l}`);
  });
}
