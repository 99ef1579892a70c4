/**
 * `npm run bench`: pinget as users run it (the package's bin, `node dist/src/cli.js`, one whole process per
 * run) against a reference tool doing the same job in the same run, medians of BENCH_ROUNDS (default 5)
 * interleaved runs; one line per figure with both medians, the ratio, the target, PASS/FAIL and peak RSS.
 * A benchmark, not a test: it reports; it fails (exit 1) only when a command itself fails.
 *
 *   npm run bench                  # build, then every figure
 *   npm run bench -- help install  # only the figures whose name contains one of the words
 *   BENCH_ROUNDS=9 BENCH_NO_BUILD=1 npm run bench
 *   BENCH_OCI_FILES=500 npm run bench -- oci   # the registry figures at one size only
 */
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanScratch, comparePair, figureLine, GNU_TIME, timeProcess, type Cmd, type Figure } from './measure.js';
import { debFiles, downloadFiles, pythonServer, REPO } from './fixtures.js';
import { lockFigures } from './lock.js';
import { alpineLockFigure } from './lock-alpine.js';
import { lockArchFigure, lockFedoraFigure } from './lock-families.js';
import { ociFigures } from './oci.js';
import { ociArch } from '../src/commands/dockerfile.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const NODE = process.execPath;
const BIN = join(REPO, 'dist/src/cli.js');
const pinget = (args: string[], extra: Partial<Cmd> = {}): Cmd => ({ argv: [NODE, BIN, ...args], ...extra });
/** pinget with arguments computed per run, after `before` made that run's directories. */
const pingetEach = (args: () => string[], before: () => Promise<void>, extra: Partial<Cmd> = {}): Cmd => ({ argv: () => [NODE, BIN, ...args()], before, ...extra });
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

let work: string;
const fresh = async (name: string) => {
  const d = join(work, name);
  await rm(d, { recursive: true, force: true });
  await mkdir(d, { recursive: true });
  return d;
};

async function helpFigure(): Promise<Figure> {
  const pair = await comparePair(pinget(['--help']), { argv: [NODE, '-e', '0'] }, ROUNDS);
  return { what: 'pinget --help vs node -e 0', pair, maxRatio: 2.5 };
}

/**
 * Start-up of the two ways pinget runs without the package: the single executable (npm run sea) against the
 * bundle on the project's Node (npm run bundle), for the rendered --version and for `info` (yargs and the
 * command modules load). Both are built here unless BENCH_NO_BUILD (then dist/ must have them).
 */
async function seaFigures(): Promise<Figure[]> {
  const exe = join(REPO, 'dist', `pinget-linux-${ociArch()}`);
  const bundle = join(REPO, 'dist', 'pinget.mjs');
  if (!process.env.BENCH_NO_BUILD) {
    for (const script of ['bundle', 'sea']) if (spawnSync('npm', ['run', '-s', script], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] }).status !== 0) throw new Error(`npm run ${script} failed`);
  }
  const figures: Figure[] = [];
  for (const args of [['--version'], ['info']]) {
    const pair = await comparePair({ argv: [exe, ...args] }, { argv: [NODE, bundle, ...args] }, ROUNDS);
    figures.push({ what: `pinget ${args.join(' ')}: the single executable vs node pinget.mjs (the bundle)`, pair, maxRatio: 1.0 });
  }
  return figures;
}

async function generateFigure(): Promise<Figure> {
  const what = 'hash generate (this machine) vs apt-cache show of the installed name=version set';
  if (!existsSync('/var/lib/dpkg/status') || !has('apt-cache') || !has('dpkg-query')) return { what, maxRatio: 0.3, skipped: 'not a Debian/Ubuntu host' };
  const q = spawnSync('dpkg-query', ['-W', '-f', '${Package}=${Version}\n'], { encoding: 'utf8' });
  const set = q.stdout.split('\n').filter(Boolean);
  const out = join(work, 'generated');
  const pair = await comparePair(
    // --offline: like apt-cache, only the local lists (no snapshot-archive look-ups for versions they no longer list).
    pinget(['hash', 'generate', '--allow-missing', '--offline', '-o', out]),
    // apt-cache exits 100 when some installed version is in no list (local builds): it still did the work.
    { argv: ['apt-cache', 'show', ...set], okCodes: [0, 100] },
    ROUNDS,
  );
  return { what: `${what} (${set.length} packages)`, pair, maxRatio: 0.3, maxRssMiB: 120 };
}

async function downloadFigures(): Promise<Figure[]> {
  const files = await downloadFiles(160, 340);
  const server = await pythonServer(files.dir);
  try {
    const template = `${server.url}/{{.Name}}`;
    const urls = join(work, 'urls');
    await writeFile(urls, files.paths.map((p) => `${server.url}/${p}\n`).join(''));
    const size = `${files.paths.length} files, ${(files.bytes / 2 ** 20).toFixed(0)} MiB`;
    let cache = '';
    let out = '';
    const cold = pingetEach(
      () => ['download', files.lockfile, '-o', out, '--provider', template, '--jobs', '8', '--cache', cache, '--quiet'],
      async () => {
        cache = await fresh('cache-cold');
        out = await fresh('out');
      },
    );
    const curl: Cmd = { argv: ['sh', '-c', `xargs -P 8 -n 1 sh -c 'curl -sfS "$0" | sha256sum' < '${urls}' > /dev/null`] };
    const coldPair = await comparePair(cold, curl, ROUNDS);

    const warm = await fresh('cache-warm');
    await timeProcess(pinget(['download', files.lockfile, '-o', await fresh('out'), '--provider', template, '--cache', warm, '--quiet']));
    const cached = pingetEach(
      () => ['download', files.lockfile, '-o', out, '--provider', template, '--jobs', '8', '--cache', warm, '--quiet'],
      async () => void (out = await fresh('out')),
    );
    const check: Cmd = { argv: ['sha256sum', '-c', '--quiet', files.lockfile], cwd: files.dir };
    const cachedPair = await comparePair(cached, check, ROUNDS);
    return [
      { what: `download ${size}, 8 jobs, into -o, from python http.server vs curl | sha256sum via xargs -P 8`, pair: coldPair, maxRatio: 1.0 },
      { what: `download ${size}, all cached, into a fresh -o vs sha256sum -c`, pair: cachedPair, maxRatio: 0.5 },
    ];
  } finally {
    await server.close();
  }
}

// Roots on tmpfs when there is one: dpkg fsyncs every file, and on a shared disk that noise would swamp
// the overhead this figure is about. Both sides install into the same kind of root.
let rootsBase: string | undefined;

/** A fresh root the way the tests make them: its os-release, and the dpkg database skeleton dpkg --root needs. */
async function freshRoot(name: string): Promise<string> {
  rootsBase ??= existsSync('/dev/shm') ? await mkdtemp('/dev/shm/pinget-bench-roots-') : work;
  const root = join(rootsBase, name);
  await rm(root, { recursive: true, force: true });
  await mkdir(join(root, 'etc'), { recursive: true });
  await copyFile('/etc/os-release', join(root, 'etc/os-release'));
  for (const d of ['info', 'updates', 'triggers']) await mkdir(join(root, 'var/lib/dpkg', d), { recursive: true });
  for (const f of ['status', 'available']) await writeFile(join(root, 'var/lib/dpkg', f), '');
  return root;
}

async function installFigure(): Promise<Figure> {
  const what = 'install of cached .debs into a fresh root vs dpkg --root -i of the same files';
  if (!has('dpkg') || !existsSync('/etc/os-release')) return { what, maxRatio: 1.05, skipped: 'no dpkg' };
  const debs = await debFiles(100, 30);
  const cache = await fresh('cache-install');
  const provider = `file://${debs.dir}/{{.Name}}`;
  await timeProcess(pinget(['download', debs.lockfile, '-o', await fresh('out'), '--provider', provider, '--cache', cache, '--quiet']));
  let root = '';
  const inst = pingetEach(
    () => ['install', debs.lockfile, '--root', root, '--provider', provider, '--cache', cache, '--quiet'],
    async () => void (root = await freshRoot('root-pinget')),
  );
  let dpkgRoot = '';
  const dpkg: Cmd = {
    argv: () => ['dpkg', `--root=${dpkgRoot}`, '--install', ...debs.paths.map((p) => join(debs.dir, p))],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    before: async () => void (dpkgRoot = await freshRoot('root-dpkg')),
  };
  const pair = await comparePair(inst, dpkg, ROUNDS);
  return { what: `${what} (${debs.paths.length} packages)`, pair, maxRatio: 1.05 };
}

const FIGURES: [string, () => Promise<Figure | Figure[]>][] = [
  ['help', helpFigure],
  ['sea', seaFigures],
  ['generate', generateFigure],
  ['download', downloadFigures],
  ['install', installFigure],
  ['lock', () => lockFigures({ work, rounds: ROUNDS, pinget, pingetEach })],
  ['lock-alpine', () => alpineLockFigure({ work, rounds: ROUNDS, pinget })],
  ['lock-arch', () => lockArchFigure({ work, rounds: ROUNDS, pinget })],
  ['lock-fedora', () => lockFedoraFigure({ work, rounds: ROUNDS, pinget })],
  ['oci', () => ociFigures({ rounds: ROUNDS, work, pinget, pingetEach }, (process.env.BENCH_OCI_FILES ?? '500,5000').split(',').map(Number))],
];

async function main(): Promise<number> {
  if (!existsSync(GNU_TIME)) {
    process.stderr.write(`bench: ${GNU_TIME} (GNU time) is needed for peak memory; install the "time" package\n`);
    return 1;
  }
  if (!process.env.BENCH_NO_BUILD) {
    const b = spawnSync('npm', ['run', '-s', 'build'], { cwd: REPO, stdio: 'inherit' });
    if (b.status !== 0) return 1;
  }
  const only = process.argv.slice(2);
  work = await mkdtemp(join(tmpdir(), 'pinget-bench-work-'));
  const version = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')).version as string;
  process.stdout.write(`pinget ${version} on node ${process.version}, ${ROUNDS} interleaved rounds each, medians\n`);
  let failed = 0;
  try {
    for (const [name, fn] of FIGURES) {
      if (only.length && !only.some((o) => name.includes(o))) continue;
      try {
        const r = await fn();
        for (const f of Array.isArray(r) ? r : [r]) process.stdout.write(`${figureLine(f)}\n`);
      } catch (e) {
        failed++;
        process.stdout.write(`${name}: ERROR ${(e as Error).message}\n`);
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
    if (rootsBase) await rm(rootsBase, { recursive: true, force: true });
    await cleanScratch();
  }
  return failed ? 1 : 0;
}

process.exitCode = await main();
