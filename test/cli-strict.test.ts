/**
 * The command line judges its arguments before it acts: misspelled options, bad values, a lockfile for
 * another system and unusable paths stop it with exit 2 and one line, before any file, cache, root or
 * server is touched. Signals, a closed stdout, repro-get's variables and commands, help texts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT, runCli } from './helpers/cli.js';
import { serveDirectory, type TestServer } from './helpers/http-server.js';
import { run } from '../src/exec.js';
import { splitList } from '../src/commands/context.js';
import { formatMarkdown, GITHUB_COMMENT_LIMIT } from '../src/ui/diff-format.js';
import { closest } from '../src/ui/suggest.js';
import { estimateLeft, formatBytes, formatDuration } from '../src/ui/progress.js';
import type { LockfileDiff } from '../src/diff.js';

const TSX = import.meta.resolve('tsx');
const CLI = join(REPO_ROOT, 'src', 'cli.ts');
const VERSION = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')).version as string;

let tmp: string;
let repo: string;
let server: TestServer;
/** A Debian 12 amd64 root: os-release, dpkg's arch and an empty status database. */
let root: string;
let lockText: string;
let paths: string[];

const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/** Every path under dir with its type, mode and content hash: what "untouched" is compared by. */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const name of (await readdir(d)).sort()) {
      const p = join(d, name);
      const st = await lstat(p);
      const rel = p.slice(tmp.length);
      if (st.isDirectory()) {
        out.push(`${rel}/ ${st.mode}`);
        await walk(p);
      } else if (st.isSymbolicLink()) out.push(`${rel} -> ${await readlink(p)}`);
      else out.push(`${rel} ${st.mode} ${sha(await readFile(p))}`);
    }
  };
  await walk(dir);
  return out;
}

async function makeRoot(dir: string, os: string, arch: string): Promise<void> {
  await mkdir(join(dir, 'etc'), { recursive: true });
  await mkdir(join(dir, 'var/lib/dpkg'), { recursive: true });
  await writeFile(join(dir, 'etc/os-release'), os);
  await writeFile(join(dir, 'var/lib/dpkg/arch'), `${arch}\n`);
  await writeFile(join(dir, 'var/lib/dpkg/status'), '');
}

const DEBIAN_12 = 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n';

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pinget-strict-'));
  repo = join(tmp, 'srv');
  const lines = ['# pinget lockfile v1', '# distro: debian 12 (bookworm) amd64'];
  paths = [];
  for (let i = 0; i < 3; i++) {
    const path = `pool/main/p/pkg${i}/pkg${i}_1.${i}-1_amd64.deb`;
    const data = randomBytes(2000 + i);
    await mkdir(dirname(join(repo, path)), { recursive: true });
    await writeFile(join(repo, path), data);
    lines.push(`${sha(data)}  ${path}`);
    paths.push(path);
  }
  lockText = lines.join('\n') + '\n';
  server = await serveDirectory(repo);
  root = join(tmp, 'root');
  await makeRoot(root, DEBIAN_12, 'amd64');
});

after(async () => {
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
});

/** A work area: the lockfile, a filled cache, an output dir and the root, all under one directory. */
async function workArea(name: string): Promise<{ dir: string; lock: string; cache: string; out: string }> {
  const dir = join(tmp, name);
  await mkdir(join(dir, 'out'), { recursive: true });
  const lock = join(dir, 'SHA256SUMS');
  await writeFile(lock, lockText);
  const cache = join(dir, 'cache');
  const fill = await runCli(['download', lock, '--root', root, '-o', join(dir, 'out'), '--cache', cache, '--provider', `${server.url}/{{.Name}}`]);
  assert.equal(fill.code, 0, fill.stderr);
  return { dir, lock, cache, out: join(dir, 'out') };
}

test('a misspelled option on any command is exit 2, one line with "did you mean", and nothing is touched', async () => {
  const { dir, lock, cache, out } = await workArea('typos');
  const before = [...(await snapshot(dir)), ...(await snapshot(root))];
  const requestsBefore = server.requests.length;
  const P = `${server.url}/{{.Name}}`;
  const cases: [string[], string][] = [
    [['hash', 'update', lock, '--root', root, '--dryrun'], '--dry-run'],
    [['hash', 'generate', '--root', root, '-o', lock, '--dedup', lock], '--dedupe'],
    [['hash', 'verify', lock, '--root', root, '--only-pined'], '--only-pinned'],
    [['hash', 'inspect', lock, '--jsn'], '--json'],
    [['install', lock, '--root', root, '--cache', cache, '--provider', P, '--reinstal'], '--reinstall'],
    [['download', lock, '--root', root, '-o', out, '--cache', cache, '--provider', P, '--jbos', '8'], '--jobs'],
    [['download', lock, '--root', root, '-o', out, '--cache', cache, '--provder', P], '--provider'],
    [['providers', lock, '--root', root, '--provider-apend', P], '--provider-append'],
    [['diff', lock, lock, '--exit-cod'], '--exit-code'],
    [['cache', 'clean', '--cache', cache, '--kep', lock], '--keep'],
    [['cache', 'verify', '--cache', cache, '--quite'], '--quiet'],
    [['cache', 'export', join(dir, 'out'), '--cach', cache], '--cache'],
    [['cache', 'push', 'ipfs', lock, '--cache', cache, '--ipfs-apii', '127.0.0.1:9'], '--ipfs-api'],
    [['ipfs', 'push', lock, '--cache', cache, '--ipfs-apii', '127.0.0.1:9'], '--ipfs-api'],
    [['dockerfile', 'generate', lock, '-o', join(dir, 'Dockerfile'), '--bsae', 'x'], '--base'],
    [['info', '--root', root, '--jsonn'], '--json'],
    // A single letter: the long options it begins.
    [['download', lock, '--root', root, '-o', out, '--cache', cache, '--provider', P, '-r', '3'], '--root or --retries'],
  ];
  for (const [args, meant] of cases) {
    const res = await runCli(args);
    assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
    const lines = res.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${args.join(' ')}: one line: ${res.stderr}`);
    assert.match(lines[0], new RegExp(`^pinget: unknown option --?\\S+ \\(did you mean ${meant}\\?\\)`), args.join(' '));
    assert.equal(res.stdout, '', `${args.join(' ')}: nothing on stdout`);
  }
  // -j is --jobs (make's spelling), checked like it.
  const j = await runCli(['download', lock, '--root', root, '-o', out, '--cache', cache, '--provider', P, '-j', '0']);
  assert.equal(j.code, 2, j.stderr);
  assert.match(j.stderr, /^pinget: --jobs expects a whole number >= 1, got "0"/);
  assert.deepEqual([...(await snapshot(dir)), ...(await snapshot(root))], before, 'lockfile, cache, output and root untouched');
  assert.equal(server.requests.length, requestsBefore, 'no request reached the server');
});

test('cache clean --keep without a lockfile is exit 2, and the cache keeps every blob (it used to be emptied)', async () => {
  const { dir, cache } = await workArea('keep-nothing');
  const before = await snapshot(dir);
  for (const args of [['cache', 'clean', '--keep', '--cache', cache], ['cache', 'clean', '--cache', cache, '--keep']]) {
    const res = await runCli(args);
    assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
    assert.equal(res.stderr, 'pinget: --keep needs a value (see pinget cache clean --help)\n');
  }
  assert.deepEqual(await snapshot(dir), before, 'cache untouched');
});

test('a switch given a value other than true/false is exit 2 naming the switch as typed (yargs read it as off)', async () => {
  const { lock, cache } = await workArea('switch-values');
  const requestsBefore = server.requests.length;
  const P = `${server.url}/{{.Name}}`;
  const cases: [string[], string, string][] = [
    [['hash', 'generate', '--root', root, '--offline=such'], '--offline', 'such'],
    [['hash', 'update', lock, '--root', root, '--dry-run=such'], '--dry-run', 'such'],
    [['install', lock, '--root', root, '--cache', cache, '--provider', P, '--reinstall=2'], '--reinstall', '2'],
    [['hash', 'verify', lock, '--root', root, '--only-pinned=yes'], '--only-pinned', 'yes'],
  ];
  for (const [args, name, value] of cases) {
    const res = await runCli(args);
    assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
    assert.equal(res.stderr, `pinget: ${name} is a switch: give it alone (or =true, =false), not "${value}"\n`);
  }
  const fine = await runCli(['hash', 'inspect', lock, '--json=true']);
  assert.equal(fine.code, 0, fine.stderr);
  assert.equal(server.requests.length, requestsBefore, 'no request reached the server');
});

test('a misspelled command gets "did you mean" at every level; a missing lockfile is a usage error before any work', async () => {
  const sub = await runCli(['hash', 'generat']);
  assert.equal(sub.code, 2);
  assert.match(sub.stderr.trim(), /^pinget: unknown command "generat" \(did you mean generate\?\)/);
  const top = await runCli(['instal', 'x']);
  assert.equal(top.code, 2);
  assert.match(top.stderr, /did you mean install\?/);
  const none = await runCli(['install', '--root', root, '--provider', `${server.url}/{{.Name}}`]);
  assert.equal(none.code, 2);
  assert.doesNotMatch(none.stderr, /installed into/);
  assert.match(none.stderr, /^pinget: missing arguments/);
  assert.equal(closest('dryrun', ['dry-run', 'root']), 'dry-run');
  assert.equal(closest('zzz', ['dry-run', 'root']), undefined);
  assert.equal(closest('jbos', ['jobs', 'json']), 'jobs');
});

test('bad values are exit 2 naming the option, before any request', async () => {
  const { lock, out, cache } = await workArea('values');
  const requestsBefore = server.requests.length;
  const base = ['download', lock, '--root', root, '-o', out, '--cache', join(cache, 'fresh'), '--provider', `${server.url}/{{.Name}}`];
  for (const [flag, value] of [['--jobs', '0'], ['--jobs', '1.5'], ['--timeout', 'abc'], ['--timeout', '0'], ['--retries', '-1']]) {
    const res = await runCli([...base, flag, value]);
    assert.equal(res.code, 2, `${flag} ${value}: ${res.stderr}`);
    assert.equal(res.stderr.trim().split('\n').length, 1);
    assert.match(res.stderr, new RegExp(`^pinget: ${flag} expects .*got "${value}"`));
  }
  const noValue = await runCli([...base, '--provider']);
  assert.equal(noValue.code, 2);
  assert.match(noValue.stderr, /--provider needs a value/);
  const archive = await runCli([...base, '--archive-url', 'nope=http://127.0.0.1:9']);
  assert.equal(archive.code, 2);
  assert.match(archive.stderr, /--archive-url: unknown archive "nope"/);
  assert.equal(server.requests.length, requestsBefore);
});

test('repeatable options take one value each: positionals after them stay positionals; a comma list is a list', async () => {
  const dir = join(tmp, 'repeat');
  await mkdir(dir, { recursive: true });
  const lock = join(dir, 'SHA256SUMS');
  await writeFile(lock, lockText);
  const out = join(dir, 'out');
  const res = await runCli(['download', '--provider', `${server.url}/{{.Name}}`, lock, '-o', out, '--root', root, '--cache', join(dir, 'cache'), '--json']);
  assert.equal(res.code, 0, res.stderr);
  const json = JSON.parse(res.stdout);
  assert.equal(json.schema, 1);
  assert.equal(json.dir, out);
  assert.equal(json.files.length, 3);

  const chain = await runCli(['providers', '--provider', 'http://a.test/{{.Name}},http://b.test/{{.Name}}', '--provider', 'http://c.test/', '--cache', dir, '--root', root]);
  assert.equal(chain.code, 0, chain.stderr);
  assert.deepEqual(chain.stdout.trim().split('\n'), [`1. cache: ${dir}`, '2. http://a.test/{{.Name}}', '3. http://b.test/{{.Name}}', '4. http://c.test/']);
  // hash generate --dedupe FILE NAME: NAME is a package name, not a second --dedupe file.
  const base = join(dir, 'base.lock');
  await writeFile(base, '# pinget lockfile v1\n');
  const gen = await runCli(['hash', 'generate', '--root', root, '--dedupe', base, 'hello']);
  assert.equal(gen.code, 2, gen.stderr);
  assert.match(gen.stderr, /not installed: hello/);
  assert.deepEqual(splitList('http://x/{{ printf "%s,%s" .Name .SHA256 }},file:///m/'), ['http://x/{{ printf "%s,%s" .Name .SHA256 }}', 'file:///m/']);
});

test("another distro's or architecture's lockfile is refused before any request reaches the server", async () => {
  const dir = join(tmp, 'mismatch');
  await mkdir(dir, { recursive: true });
  const body = lockText.split('\n').slice(2).join('\n');
  const variants: Record<string, string> = {
    ubuntu: `# pinget lockfile v1\n# distro: ubuntu 24.04 (noble) amd64\n${body}`,
    fedora: `# pinget lockfile v1\n# distro: fedora 40 x86_64\n${body}`,
    arm64: `# pinget lockfile v1\n# distro: debian 12 (bookworm) arm64\n${body}`,
  };
  const requestsBefore = server.requests.length;
  const P = `${server.url}/{{.Name}}`;
  for (const [name, text] of Object.entries(variants)) {
    const lock = join(dir, `SHA256SUMS-${name}`);
    await writeFile(lock, text);
    const cache = join(dir, `cache-${name}`);
    for (const args of [
      ['install', lock, '--root', root, '--cache', cache, '--provider', P],
      ['download', lock, '--root', root, '-o', join(dir, `out-${name}`), '--cache', cache, '--provider', P],
      ['hash', 'verify', lock, '--root', root],
      ['providers', lock, '--root', root],
    ]) {
      const res = await runCli(args);
      assert.equal(res.code, 2, `${args.slice(0, 2).join(' ')} ${name}: ${res.stderr}`);
      assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
      const header = text.split('\n')[1].slice('# distro: '.length);
      assert.ok(res.stderr.includes(header), `names the lockfile's system: ${res.stderr}`);
      assert.match(res.stderr, name === 'arm64' ? /is debian 12 amd64.*use the amd64 lockfile/ : /is debian 12 amd64.*regenerate it here/);
    }
    assert.deepEqual(await readdir(cache).catch(() => []), [], 'no cache written');
  }
  assert.equal(server.requests.length, requestsBefore, 'no request arrived');

  // Downloading for another system is said with --distro; the root's mirrors and arch are not used then.
  const ok = await runCli(['download', join(dir, 'SHA256SUMS-arm64'), '--distro', 'debian', '--root', root, '-o', join(dir, 'out-other'), '--cache', join(dir, 'cache-other'), '--provider', P]);
  assert.equal(ok.code, 0, ok.stderr);
  const ubuntu = await runCli(['download', join(dir, 'SHA256SUMS-ubuntu'), '--root', root, '-o', join(dir, 'out-u'), '--cache', join(dir, 'cache-u'), '--provider', P], {
    env: { REPRO_GET_DISTRO: 'ubuntu' },
  });
  assert.equal(ubuntu.code, 0, ubuntu.stderr);
});

test('hash generate --distro of another distro than the root is exit 2 and writes no lockfile', async () => {
  const out = join(tmp, 'gen-fedora.lock');
  const res = await runCli(['hash', 'generate', '--root', root, '--distro', 'fedora', '-o', out]);
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, /^pinget: --distro fedora, but .* is debian 12/);
  await assert.rejects(readFile(out), /ENOENT/);
});

test('lock with a cache it cannot write: exit 2 naming it and --cache/PINGET_CACHE, before any request (as an unprivileged user)', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to switch to an unprivileged user');
  const dir = join(tmp, 'lock-unwritable');
  await mkdir(dir, { recursive: true });
  await chmod(tmp, 0o755);
  await chmod(dir, 0o777);
  const cache = join(tmp, 'root-owned-cache');
  await mkdir(cache, { recursive: true });
  await chmod(cache, 0o755);
  const requestsBefore = server.requests.length;
  const res = await run('setpriv', [
    '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', TSX, CLI,
    'lock', 'hello', '--distro', 'debian:bookworm', '--mirror', `${server.url}/debian`, '-o', join(dir, 'SHA256SUMS'),
  ], { env: { ...process.env, HOME: dir, TMPDIR: dir, PINGET_CACHE: cache } });
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, /^pinget: cache directory .*root-owned-cache\S* is not writable \(EACCES\): choose a writable one with --cache DIR or PINGET_CACHE\n$/);
  assert.equal(server.requests.length, requestsBefore, 'no request');
  await assert.rejects(readFile(join(dir, 'SHA256SUMS')), /ENOENT/);
});

test('install checks that it can write the package database before fetching (as an unprivileged user)', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to switch to an unprivileged user');
  const nobody = await run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--version']);
  if (nobody.code !== 0) return t.skip(`setpriv cannot run node as nobody: ${nobody.stderr}`);
  const dir = join(tmp, 'unpriv');
  await mkdir(dir, { recursive: true });
  await chmod(tmp, 0o755);
  await chmod(dir, 0o777);
  const lock = join(dir, 'SHA256SUMS');
  await writeFile(lock, lockText);
  const requestsBefore = server.requests.length;
  const res = await run('setpriv', [
    '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', TSX, CLI,
    'install', lock, '--root', root, '--cache', join(dir, 'cache'), '--provider', `${server.url}/{{.Name}}`,
  ], { env: { ...process.env, HOME: dir, TMPDIR: dir } });
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, /^pinget: dpkg installs packages only as root \(you are uid 65534\): run as root$/m);
  assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
  assert.equal(server.requests.length, requestsBefore, 'nothing fetched');

  // A root the user owns does not help with dpkg: dpkg itself refuses, and pinget says so before fetching.
  const own = join(dir, 'own-root');
  await makeRoot(own, DEBIAN_12, 'amd64');
  await run('chown', ['-R', '65534:65534', own]);
  const dpkgSays = await run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'dpkg', `--root=${own}`, `--admindir=${join(own, 'var/lib/dpkg')}`, '--install', lock], { env: { ...process.env, HOME: dir } });
  assert.notEqual(dpkgSays.code, 0);
  assert.match(dpkgSays.stderr, /requested operation requires superuser privilege/);
  const inOwn = await run('setpriv', [
    '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', TSX, CLI,
    'install', lock, '--root', own, '--cache', join(dir, 'cache'), '--provider', `${server.url}/{{.Name}}`,
  ], { env: { ...process.env, HOME: dir, TMPDIR: dir } });
  assert.equal(inOwn.code, 2, inOwn.stderr);
  assert.match(inOwn.stderr, /dpkg installs packages only as root \(you are uid 65534\): run as root/);
  assert.equal(server.requests.length, requestsBefore, 'nothing fetched');

  // An -o the user may not write: exit 2 naming it, before anything is generated or fetched.
  const readOnly = join(tmp, 'root-owned');
  await mkdir(readOnly, { recursive: true });
  await chmod(readOnly, 0o755);
  const asNobody = (args: string[]) =>
    run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', TSX, CLI, ...args], { env: { ...process.env, HOME: dir, TMPDIR: dir } });
  const gen = await asNobody(['hash', 'generate', '--root', root, '-o', join(readOnly, 'SHA256SUMS')]);
  assert.equal(gen.code, 2, gen.stderr);
  assert.match(gen.stderr, /cannot write .*root-owned\/SHA256SUMS: permission denied \(EACCES\)/);
  const dl = await asNobody(['download', lock, '--root', root, '-o', join(readOnly, 'out'), '--cache', join(dir, 'cache'), '--provider', `${server.url}/{{.Name}}`]);
  assert.equal(dl.code, 2, dl.stderr);
  assert.match(dl.stderr, /root-owned\/out: permission denied \(EACCES\)/);
  assert.equal(server.requests.length, requestsBefore, 'nothing fetched');
});

test('bad paths are exit 2 with one line naming them: -o missing, a file as directory, a directory as file, /proc', async () => {
  const dir = join(tmp, 'paths');
  await mkdir(dir, { recursive: true });
  const lock = join(dir, 'SHA256SUMS');
  await writeFile(lock, lockText);
  const file = join(dir, 'a-file');
  await writeFile(file, 'x');
  const gen = (o: string) => runCli(['hash', 'generate', '--root', root, '-o', o]);
  for (const [o, why] of [
    [join(dir, 'missing', 'dir', 'X'), /does not exist \(ENOENT\)/],
    [join(file, 'X'), /is not a directory \(ENOTDIR\)/],
    [dir, /is a directory/],
  ] as const) {
    const res = await gen(o);
    assert.equal(res.code, 2, `${o}: ${res.stderr}`);
    assert.equal(res.stderr.trim().split('\n').length, 1);
    assert.ok(res.stderr.includes(o), res.stderr);
    assert.match(res.stderr, why);
  }
  const dl = (o: string) =>
    runCli(['download', lock, '--root', root, '-o', o, '--cache', join(dir, 'cache'), '--provider', `${server.url}/{{.Name}}`]);
  const requestsBefore = server.requests.length;
  for (const o of [file, join(file, 'sub'), '/proc/pinget-test']) {
    const res = await dl(o);
    assert.equal(res.code, 2, `${o}: ${res.stderr}`);
    assert.ok(res.stderr.includes(o), res.stderr);
    assert.doesNotMatch(res.stderr, /internal error/);
  }
  assert.equal(server.requests.length, requestsBefore, 'nothing fetched for an unusable -o');
  const missing = await runCli(['hash', 'verify', join(dir, 'nope'), '--root', root]);
  assert.equal(missing.code, 2);
  // A Node errno error that reaches the CLI is mapped centrally: exit 2 and the path, not exit 70.
  const target = join(dir, 'no-such-dir', 'Dockerfile');
  const pinned = (image: string) => `${image}@sha256:${'a'.repeat(64)}`;
  const docker = await runCli(['dockerfile', 'generate', lock, '-o', target, '--base', pinned('debian:bookworm'), '--node-image', pinned('node:24-bookworm-slim')]);
  assert.equal(docker.code, 2, docker.stderr);
  assert.equal(docker.stderr.trim(), `pinget: cannot write ${target}: directory ${dirname(target)} does not exist (ENOENT); create it or choose another path`);
});

/** A server that sends each file's first bytes, then trickles: a download that is surely in flight. */
async function slowServer(): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((_req, res) => {
    hits++;
    res.writeHead(200, { 'content-length': String(10_000_000) });
    res.write(Buffer.alloc(64 * 1024));
    const t = setInterval(() => res.write(Buffer.alloc(16)), 200);
    timers.add(t);
    res.on('close', () => clearInterval(t));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    close: async () => {
      for (const t of timers) clearInterval(t);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function interrupt(signal: 'SIGINT' | 'SIGTERM'): Promise<{ code: number | null; stderr: string; cache: string; out: string }> {
  const slow = await slowServer();
  try {
    const dir = await mkdtemp(join(tmp, `sig-${signal}-`));
    const lock = join(dir, 'SHA256SUMS');
    await writeFile(lock, lockText);
    const cache = join(dir, 'cache');
    const out = join(dir, 'out');
    const child = spawn(process.execPath, ['--import', TSX, CLI, 'download', lock, '--root', root, '-o', out, '--cache', cache, '--provider', `${slow.url}/{{.Name}}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.stdout.resume();
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    const deadline = Date.now() + 30_000;
    while (slow.hits() < paths.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(slow.hits(), paths.length, `every download started: ${stderr}`);
    child.kill(signal);
    const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000))]);
    if (code === 'hung') {
      child.kill('SIGKILL');
      assert.fail(`pinget did not exit after ${signal}`);
    }
    return { code, stderr, cache, out };
  } finally {
    await slow.close();
  }
}

test('SIGINT during a download: exit 130, "interrupted", no temp file in the cache or the output directory', async () => {
  const res = await interrupt('SIGINT');
  assert.equal(res.code, 130, res.stderr);
  assert.equal(res.stderr.trim(), 'pinget: interrupted');
  assert.deepEqual(await readdir(join(res.cache, 'tmp')).catch(() => []), [], 'no temp file left in the cache');
  assert.deepEqual(await readdir(join(res.cache, 'blobs', 'sha256')).catch(() => []), []);
  assert.deepEqual(await readdir(res.out).catch(() => []), [], 'nothing in -o');
});

test('SIGTERM during a download: exit 143', async () => {
  const res = await interrupt('SIGTERM');
  assert.equal(res.code, 143, res.stderr);
  assert.match(res.stderr, /^pinget: interrupted$/m);
  assert.deepEqual(await readdir(join(res.cache, 'tmp')).catch(() => []), []);
});

test('a closed stdout (pinget providers | head -1) ends quietly', async () => {
  for (let i = 0; i < 3; i++) {
    const child = spawn(process.execPath, ['--import', TSX, CLI, 'providers', '--root', root, '--provider', 'http://a.test/', '--provider', 'http://b.test/'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '', 'no stack, no message');
  }
});

test("repro-get's environment: REPRO_GET_CACHE/DISTRO/PROVIDER, PINGET_* win, flags win over both", async () => {
  const providers = (env: NodeJS.ProcessEnv, extra: string[] = []) => runCli(['providers', '--root', root, '--json', ...extra], { env });
  const a = join(tmp, 'env-a');
  const b = join(tmp, 'env-b');
  const r1 = JSON.parse((await providers({ REPRO_GET_CACHE: a, REPRO_GET_PROVIDER: 'http://x.test/{{.Name}},http://y.test/' })).stdout);
  assert.equal(r1.schema, 1);
  assert.deepEqual(r1.providers.map((p: { dir?: string; template?: string }) => p.dir ?? p.template), [a, 'http://x.test/{{.Name}}', 'http://y.test/']);
  const r2 = JSON.parse((await providers({ REPRO_GET_CACHE: a, PINGET_CACHE: b, REPRO_GET_PROVIDER: 'http://x.test/', PINGET_PROVIDER: 'http://p.test/' })).stdout);
  assert.deepEqual(r2.providers.map((p: { dir?: string; template?: string }) => p.dir ?? p.template), [b, 'http://p.test/']);
  const r3 = JSON.parse((await providers({ PINGET_CACHE: b, PINGET_PROVIDER: 'http://p.test/' }, ['--cache', a, '--provider', 'http://f.test/'])).stdout);
  assert.deepEqual(r3.providers.map((p: { dir?: string; template?: string }) => p.dir ?? p.template), [a, 'http://f.test/']);

  const info = await runCli(['info', '--root', root, '--json'], { env: { REPRO_GET_DISTRO: 'alpine', PINGET_CACHE: b } });
  assert.equal(info.code, 0, info.stderr);
  const j = JSON.parse(info.stdout);
  assert.equal(j.distro.osId, 'alpine');
  assert.equal(j.cache.dir, b);
});

test('info names the version, the distro of --root, the cache, the chain and Node', async () => {
  const res = await runCli(['info', '--root', root, '--cache', join(tmp, 'c'), '--provider-append', 'http://z.test/']);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, new RegExp(`^pinget ${VERSION.replace(/\./g, '\\.')} on Node\\.js v\\d+`, 'm'));
  assert.match(res.stdout, /^distro: debian 12 \(bookworm\) amd64/m);
  assert.match(res.stdout, new RegExp(`^cache: ${join(tmp, 'c')}$`, 'm'));
  assert.match(res.stdout, /http:\/\/z\.test\//);
  const json = JSON.parse((await runCli(['info', '--root', root, '--json'])).stdout);
  assert.equal(json.version, VERSION);
  assert.equal(json.distro.arch, 'amd64');
  assert.equal(json.providers[0].kind, 'cache');
});

test('hash inspect prints the lockfile line of a real .deb (Debian pool path from its control file), and lists a lockfile', async () => {
  const build = join(tmp, 'deb');
  await mkdir(join(build, 'DEBIAN'), { recursive: true });
  await writeFile(
    join(build, 'DEBIAN', 'control'),
    'Package: libpinget-demo1\nVersion: 1:2.0-3\nArchitecture: all\nSource: libpinget-demo (2.0-3)\nSection: contrib/libs\nMaintainer: Test <t@example.invalid>\nDescription: test\n',
  );
  const deb = join(tmp, 'demo.deb');
  const res = await run('dpkg-deb', ['--root-owner-group', '-b', build, deb]);
  assert.equal(res.code, 0, res.stderr);
  const expected = `${sha(await readFile(deb))}  pool/contrib/libp/libpinget-demo/libpinget-demo1_2.0-3_all.deb`;
  const other = join(tmp, 'other.apk');
  await writeFile(other, Buffer.concat([Buffer.from([0x1f, 0x8b]), randomBytes(100)]));
  const inspect = await runCli(['hash', 'inspect', deb, other]);
  assert.equal(inspect.code, 0, inspect.stderr);
  assert.deepEqual(inspect.stdout.trim().split('\n'), [expected, `${sha(await readFile(other))}  other.apk`]);
  const json = JSON.parse((await runCli(['hash', 'inspect', deb, '--json'])).stdout);
  assert.equal(json.files[0].name, 'libpinget-demo1');
  assert.equal(json.files[0].version, '1:2.0-3');
  const lock = join(tmp, 'inspect.lock');
  await writeFile(lock, lockText);
  const listed = await runCli(['hash', 'inspect', lock]);
  assert.equal(listed.stdout.trim().split('\n').length, 3);
  const junk = join(tmp, 'junk.txt');
  await writeFile(junk, 'not a lockfile\n');
  assert.equal((await runCli(['hash', 'inspect', junk])).code, 2);
});

test('help: own options first, common ones once in their group, positionals described, no noise, examples; -V', async () => {
  for (const cmd of [['install'], ['download'], ['hash', 'generate'], ['hash', 'verify'], ['providers']]) {
    const res = await runCli([...cmd, '--help']);
    assert.equal(res.code, 0, res.stderr);
    const h = res.stdout;
    assert.doesNotMatch(h, /\[required\]|\[default: \[\]\]|\[array\]/, cmd.join(' '));
    assert.match(h, /Positionals:\n {2}\w+ {2,}\S/, `${cmd.join(' ')}: positional described`);
    assert.match(h, /Examples:/);
    assert.equal(h.match(/--json/g)?.length, 1, 'the common options once');
    const own = h.indexOf('\nOptions:');
    if (own >= 0) assert.ok(own < h.indexOf('Common options:'), `${cmd.join(' ')}: own options first`);
    assert.ok(h.indexOf('Common options:') > 0);
  }
  const diff = await runCli(['diff', '--help']);
  assert.match(diff.stdout, /--title/);
  assert.doesNotMatch(diff.stdout, /--provider/, 'diff does not list fetch options it does not take');
  for (const flag of ['-V', '--version']) {
    const v = await runCli([flag]);
    assert.equal(v.stdout.trim(), VERSION);
  }
});

test('the bundle knows its version; on an older Node the entry point says what it needs', async (t) => {
  const out = join(tmp, 'bundle');
  const b = await run('npm', ['run', '-s', 'bundle'], { cwd: REPO_ROOT });
  assert.equal(b.code, 0, b.stderr);
  const bundle = join(REPO_ROOT, 'dist', 'pinget.mjs');
  for (const flag of ['--version', '-V']) {
    const v = await run(process.execPath, [bundle, flag], { cwd: tmp });
    assert.equal(v.stdout.trim(), VERSION, v.stderr);
  }
  const typo = await run(process.execPath, [bundle, 'hash', 'generat'], { cwd: tmp });
  assert.equal(typo.code, 2);
  // The check runs before anything is loaded: a Node that claims to be 20 is refused with one line.
  await mkdir(out, { recursive: true });
  const old = await run(process.execPath, ['--import', `data:text/javascript,Object.defineProperty(process.versions,"node",{value:"20.11.0"})`, bundle, '--help'], { cwd: tmp });
  if (old.stderr.includes('ERR_')) return t.skip(`cannot fake process.versions here: ${old.stderr}`);
  assert.equal(old.code, 2, old.stderr);
  assert.match(old.stderr.trim(), /^pinget needs Node\.js >= 22\.19 \(this is v\d+/);
});

test('diff --format markdown: --title heads the comment; a huge diff stays under GitHub\'s limit and says what it left out', async () => {
  const big: LockfileDiff = {
    changes: Array.from({ length: 6000 }, (_, i) => ({ kind: 'upgraded' as const, name: `package-with-a-long-name-${i}`, arch: 'amd64', oldVersion: `1.${i}-1`, newVersion: `1.${i}-2` })),
    alerts: Array.from({ length: 800 }, (_, i) => ({ kind: 'downgrade' as const, message: `downgrade: pkg${i} (amd64) 2.0 -> 1.0` })),
    headers: [{ key: 'snapshot', old: 'a', new: 'b' }],
    otherAdded: [],
    otherRemoved: [],
    cidsAdded: 0,
    cidsRemoved: 0,
  };
  const md = formatMarkdown(big, { title: 'SHA256SUMS-arm64' });
  assert.ok(md.length <= GITHUB_COMMENT_LIMIT, `${md.length} characters`);
  assert.match(md, /^<!-- pinget diff: SHA256SUMS-arm64 -->\n### SHA256SUMS-arm64\n/);
  assert.match(md, /\*\*Not shown: \d+ alerts, \d+ package changes\*\*/);
  assert.match(md, /<details><summary>Other changes: \d+ of 6000 packages \(cut at the size limit\)<\/summary>/);
  const small = formatMarkdown({ ...big, changes: big.changes.slice(0, 3), alerts: [] });
  assert.doesNotMatch(small, /Not shown/);

  const lock = join(tmp, 'diff-title.lock');
  await writeFile(lock, lockText);
  const res = await runCli(['diff', '/dev/null', lock, '--format', 'markdown', '--title', 'arm64 image']);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /^### arm64 image$/m);
  const json = JSON.parse((await runCli(['diff', '/dev/null', lock, '--json'])).stdout);
  assert.equal(json.schema, 1);
  assert.equal(json.summary.added, 3);
});

test("ipfs push FILE (repro-get's spelling) is cache push ipfs FILE: /ipfs/ lines written into the lockfile", async (t) => {
  const { startIpfsNode } = await import('./helpers/ipfs-node.js');
  const node = await startIpfsNode();
  t.after(() => node.close());
  const dir = join(tmp, 'ipfs-push');
  await mkdir(dir, { recursive: true });
  const lock = join(dir, 'SHA256SUMS');
  await writeFile(lock, lockText);
  const res = await runCli(['ipfs', 'push', lock, '--root', root, '--ipfs-api', node.api, '--cache', join(dir, 'cache'), '--provider', `file://${repo}/{{.Name}}`, '--json']);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(JSON.parse(res.stdout).schema, 1);
  const text = await readFile(lock, 'utf8');
  assert.equal(text.split('\n').filter((l) => / {2}\/ipfs\//.test(l)).length, paths.length);
});

test('progress: an ETA from the bytes so far, and binary units', () => {
  assert.equal(estimateLeft({ elapsedSeconds: 0.5, received: 100, inFlightLeft: 0, unsized: 9, meanSize: 10 }), undefined, 'too early to say');
  // 1000 bytes in 10 s; 500 announced bytes still to come and 3 files of the mean size 200
  assert.equal(estimateLeft({ elapsedSeconds: 10, received: 1000, inFlightLeft: 500, unsized: 3, meanSize: 200 }), 11);
  assert.equal(estimateLeft({ elapsedSeconds: 10, received: 1000, inFlightLeft: 0, unsized: 3 }), undefined, 'no size to go by yet');
  // the case: one big file left is not "0s" because it is the last of many small ones
  assert.equal(estimateLeft({ elapsedSeconds: 20, received: 2000, inFlightLeft: 400, unsized: 0, meanSize: 10 }), 4);
  assert.equal(formatDuration(3725), '1h02m');
  assert.equal(formatDuration(245), '4m05s');
  assert.equal(formatBytes(5 * 1024 * 1024), '5.0 MiB');
});

test('providers FILE shows exactly the chain install FILE uses', async () => {
  const dir = join(tmp, 'same-chain');
  const sysroot = join(dir, 'root');
  await makeRoot(sysroot, DEBIAN_12, 'amd64');
  await mkdir(join(sysroot, 'etc/apt'), { recursive: true });
  await writeFile(join(sysroot, 'etc/apt/sources.list'), 'deb http://127.0.0.1:9/debian bookworm main\n');
  const lock = join(dir, 'SHA256SUMS');
  await writeFile(lock, lockText.replace('# distro:', '# snapshot: 2024-01-01T00:00:00Z\n# distro:'));
  const common = ['--root', sysroot, '--cache', join(dir, 'cache'), '--archive-url', 'debian-snapshot=http://127.0.0.1:9/snapshot'];
  const shown = await runCli(['providers', lock, ...common]);
  assert.equal(shown.code, 0, shown.stderr);
  const chain = shown.stdout.trim().split('\n').map((l) => l.replace(/^\d+\. /, ''));
  assert.ok(chain.includes('http://127.0.0.1:9/debian/{{.Name}}'), shown.stdout);
  const install = await runCli(['install', lock, ...common, '--verbose', '--retries', '0']);
  assert.equal(install.code, 4, install.stderr);
  const used = /^providers: cache \(([^)]*)\), (.*)$/m.exec(install.stderr);
  assert.ok(used, install.stderr);
  assert.deepEqual([`cache: ${used[1]}`, ...used[2].split(', ')], chain);
});

test('an option that takes one value, given twice: exit 2 naming it (was an internal error); repeatable ones still collect', async () => {
  for (const args of [['providers', '--cache', '/tmp/a', '--cache', '/tmp/b'], ['hash', 'generate', '-o', 'a', '--output', 'b'], ['diff', 'a', 'b', '--format', 'text', '--format', 'json']]) {
    const res = await runCli(args);
    assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
    assert.match(res.stderr, /^pinget: --(cache|output|format) given 2 times; give it once\n$/);
  }
  const res = await runCli(['providers', '--provider', 'http://127.0.0.1:9/a/{{.Name}}', '--provider', 'http://127.0.0.1:9/b/{{.Name}}']);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /a\/\{\{\.Name\}\}\n.*b\/\{\{\.Name\}\}/);
});
