/**
 * Times the Debian adapter's `generate` on this machine's root '/' against `dpkg-query -W` (the reference):
 * median of 5 runs, each in a child process so peak RSS can be read. Targets: < 1.5 s and < 300 MB.
 * Run: node --import tsx bench/generate.bench.ts
 *
 * Packages whose installed version no list has (locally installed, or lists older than the system) are left
 * out with `only`, so generate measures the full scan of every list without failing.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);

if (process.argv[2] === 'child') {
  const t0 = performance.now();
  const { debianAdapter } = await import('../distros/debian/index.js');
  const { silentLogger } = await import('../src/ui/log.js');
  const info = (await debianAdapter.detect('/'))!;
  const only = process.argv[3] ? process.argv[3].split(',') : undefined;
  const res = await debianAdapter.generate('/', info, { log: silentLogger, only });
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(JSON.stringify({ seconds, entries: res.entries.length }) + '\n');
} else {
  // Names apt can place in a list, so generate succeeds (the same reference test/debian-host.test.ts uses).
  const q = spawnSync('dpkg-query', ['-W', '-f', '${Package}:${Architecture}=${Version}\t${db:Status-Status}\n'], { encoding: 'utf8' });
  const args = q.stdout.split('\n').filter((l) => l.endsWith('\tinstalled')).map((l) => l.split('\t')[0]);
  const shown = spawnSync('apt-cache', ['show', ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const names = [
    ...new Set(shown.stdout.split('\n\n').filter((p) => /^Filename: /m.test(p)).map((p) => /^Package: (\S+)/m.exec(p)?.[1]).filter(Boolean)),
  ];

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const ours: number[] = [];
  const rss: number[] = [];
  let entries = 0;
  for (let i = 0; i < 5; i++) {
    const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, '--import', 'tsx', self, 'child', names.join(',')], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    ours.push(out.seconds);
    entries = out.entries;
    rss.push(Number(r.stderr.trim().split('\n').pop()) / 1024);
  }
  const ref: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    spawnSync('dpkg-query', ['-W'], { encoding: 'utf8' });
    ref.push((performance.now() - t) / 1000);
  }
  const s = median(ours);
  const mb = Math.max(...rss);
  console.log(`generate on / : ${entries} entries, median ${s.toFixed(3)} s (target < 1.5 s), peak RSS ${mb.toFixed(0)} MB (target < 300 MB)`);
  console.log(`dpkg-query -W : median ${median(ref).toFixed(3)} s; ratio ${(s / median(ref)).toFixed(1)}x`);
  if (s >= 1.5 || mb >= 300) process.exitCode = 1;
}
