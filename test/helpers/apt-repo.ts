/**
 * A real apt repository and a real apt-managed scratch root, for the Debian adapter's tests and the CLI tests.
 *
 * buildAptRepo(): small .debs built with `dpkg-deb --build` (one with an epoch, one `Architecture: all`, one
 * `Multi-Arch: same`, with dependencies between them), `Packages`(+.gz/.xz) and `Release` by apt-ftparchive,
 * `InRelease` and `Release.gpg` signed by a throwaway gpg key, served on 127.0.0.1 by http-server.ts.
 *
 * makeAptRoot(): a root directory driven by the host's apt and dpkg without chroot:
 *   - APT_CONFIG points at a config file inside the root that sets `Dir "<root>/"` (so sources, lists, cache,
 *     trusted keys are all under the root), `Dir::State::status` (apt's own default is the host's status file)
 *     and `DPkg::Options { "--root=<root>"; }` so dpkg unpacks into the root and keeps its database there;
 *   - `APT::Sandbox::User "root"`: apt's _apt user cannot enter a mkdtemp directory (mode 0700);
 *   - `Dir::Etc::Parts` is pointed at an empty directory so the host's apt.conf.d hooks do not run.
 *   - The source uses deb822 with an inline `Signed-By:` key block: an apt run with Dir=<root> resolves
 *     Signed-By *file* paths on the host, not in the root, so an inline key is the one form both apt and
 *     pinget read from the same place.
 * The test packages have no maintainer scripts, so dpkg --root needs no --force-script-chrootless.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/exec.js';
import { sha256File } from '../../src/verify/sha256.js';
import { serveDirectory, type TestServer } from './http-server.js';

export interface RepoPackage {
  name: string;
  version: string;
  arch: string;
  /** Path relative to the repository root (the lockfile path). */
  path: string;
  /** Absolute path of the .deb. */
  file: string;
  sha256: string;
}

export interface AptRepo {
  /** Repository root directory (contains pool/ and dists/). */
  dir: string;
  url: string;
  suite: string;
  /** Armored public key of the signing key. */
  keyFile: string;
  packages: RepoPackage[];
  server: TestServer;
  /** Re-signs dists/<suite>/Release into InRelease and Release.gpg (after a test edits it). */
  resign(): Promise<void>;
  close(): Promise<void>;
}

async function must(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const res = await run(cmd, args, opts);
  if (res.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${res.code}): ${res.stderr.trim()}`);
  return res.stdout;
}

export async function hostArch(): Promise<string> {
  return (await must('dpkg', ['--print-architecture'])).trim();
}

interface Spec {
  name: string;
  version: string;
  arch: string;
  extra?: Record<string, string>;
}

async function buildDeb(work: string, repoDir: string, s: Spec): Promise<RepoPackage> {
  const tree = join(work, `${s.name}-${s.arch}`);
  await mkdir(join(tree, 'DEBIAN'), { recursive: true });
  await mkdir(join(tree, 'usr/share/pinget-test', s.name), { recursive: true });
  await writeFile(join(tree, 'usr/share/pinget-test', s.name, 'README'), `${s.name} ${s.version}\n`);
  const control = [
    `Package: ${s.name}`,
    `Version: ${s.version}`,
    `Architecture: ${s.arch}`,
    'Maintainer: pinget tests <tests@example.invalid>',
    'Section: misc',
    'Priority: optional',
    ...Object.entries(s.extra ?? {}).map(([k, v]) => `${k}: ${v}`),
    `Description: pinget test package ${s.name}`,
    ' A tiny package built by test/helpers/apt-repo.ts.',
    '',
  ].join('\n');
  await writeFile(join(tree, 'DEBIAN/control'), control);
  const noEpoch = s.version.replace(/^\d+:/, '');
  const rel = `pool/main/${s.name[0]}/${s.name}/${s.name}_${noEpoch}_${s.arch}.deb`;
  await mkdir(join(repoDir, 'pool/main', s.name[0], s.name), { recursive: true });
  const file = join(repoDir, rel);
  await must('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', tree, file], { env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' } });
  return { name: s.name, version: s.version, arch: s.arch, path: rel, file, sha256: await sha256File(file) };
}

export async function buildAptRepo(): Promise<AptRepo> {
  const base = await mkdtemp(join(tmpdir(), 'pinget-aptrepo-'));
  const dir = join(base, 'repo');
  const work = join(base, 'work');
  const gnupg = join(base, 'gnupg');
  await mkdir(gnupg, { mode: 0o700 });
  await mkdir(work);
  const arch = await hostArch();
  const suite = 'stable';
  const env = { ...process.env, GNUPGHOME: gnupg };
  let server: TestServer | undefined;
  const close = async () => {
    await server?.close();
    await run('gpgconf', ['--kill', 'all'], { env }).catch(() => undefined);
    await rm(base, { recursive: true, force: true });
  };
  try {
    const specs: Spec[] = [
      { name: 'pinget-data', version: '1.0-1', arch: 'all' },
      { name: 'pinget-lib', version: '1:2.0-1', arch, extra: { 'Multi-Arch': 'same' } },
      { name: 'pinget-app', version: '3.1-2', arch, extra: { Depends: 'pinget-lib (>= 1:2.0), pinget-data' } },
      { name: 'pinget-extra', version: '0.5-1', arch, extra: { Depends: 'pinget-app' } },
    ];
    const packages: RepoPackage[] = [];
    for (const s of specs) packages.push(await buildDeb(work, dir, s));

    const bin = join(dir, 'dists', suite, 'main', `binary-${arch}`);
    await mkdir(bin, { recursive: true });
    await writeFile(join(bin, 'Packages'), await must('apt-ftparchive', ['packages', 'pool'], { cwd: dir }));
    await must('gzip', ['-9', '-n', '-k', join(bin, 'Packages')]);
    await must('xz', ['-k', join(bin, 'Packages')]);
    const release = await must(
      'apt-ftparchive',
      ['-o', `APT::FTPArchive::Release::Suite=${suite}`, '-o', `APT::FTPArchive::Release::Codename=${suite}`, '-o', 'APT::FTPArchive::Release::Components=main', '-o', `APT::FTPArchive::Release::Architectures=${arch}`, 'release', `dists/${suite}`],
      { cwd: dir },
    );
    await writeFile(join(dir, 'dists', suite, 'Release'), release);

    await must('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', 'pinget test repo <repo@example.invalid>', 'rsa2048', 'sign', 'never'], { env });
    const keyFile = join(base, 'repo-key.asc');
    await writeFile(keyFile, await must('gpg', ['--batch', '--armor', '--export'], { env }));
    const resign = async () => {
      const d = join(dir, 'dists', suite);
      await must('gpg', ['--batch', '--yes', '--digest-algo', 'SHA512', '--clearsign', '-o', join(d, 'InRelease'), join(d, 'Release')], { env });
      await must('gpg', ['--batch', '--yes', '--digest-algo', 'SHA512', '--armor', '--detach-sign', '-o', join(d, 'Release.gpg'), join(d, 'Release')], { env });
    };
    await resign();
    server = await serveDirectory(dir);
    return { dir, url: server.url, suite, keyFile, packages, server, resign, close };
  } catch (e) {
    await close();
    throw e;
  }
}

export interface AptRoot {
  root: string;
  /** Runs apt-get against the root with the config described above. */
  aptGet(args: string[]): Promise<string>;
  close(): Promise<void>;
}

const OS_RELEASE = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
`;

/**
 * A scratch root with etc/os-release, a deb822 source for the repository (inline Signed-By key), and apt lists
 * from a real `apt-get update`; with `install`, those packages installed by real apt + dpkg --root.
 */
export async function makeAptRoot(repoUrl: string, keyFile: string, opts: { suite?: string; install?: string[] } = {}): Promise<AptRoot> {
  const root = await mkdtemp(join(tmpdir(), 'pinget-aptroot-'));
  const close = () => rm(root, { recursive: true, force: true });
  try {
    for (const d of ['etc/apt/sources.list.d', 'etc/apt/preferences.d', 'etc/apt/trusted.gpg.d', 'var/lib/apt/lists/partial', 'var/cache/apt/archives/partial', 'var/lib/dpkg/info', 'var/lib/dpkg/updates', 'var/log/apt', 'pinget-empty-parts']) {
      await mkdir(join(root, d), { recursive: true });
    }
    await writeFile(join(root, 'var/lib/dpkg/status'), '');
    await writeFile(join(root, 'var/lib/dpkg/available'), '');
    await writeFile(join(root, 'etc/os-release'), OS_RELEASE);
    const key = (await readFile(keyFile, 'utf8')).trim().split('\n').map((l) => (l.trim() === '' ? ' .' : ` ${l}`));
    await writeFile(
      join(root, 'etc/apt/sources.list.d/test.sources'),
      ['Types: deb', `URIs: ${repoUrl}`, `Suites: ${opts.suite ?? 'stable'}`, 'Components: main', 'Signed-By:', ...key, ''].join('\n'),
    );
    const arch = await hostArch();
    const conf = join(root, 'pinget-apt.conf');
    await writeFile(
      conf,
      [
        `Dir "${root}/";`,
        `Dir::State::status "${root}/var/lib/dpkg/status";`,
        `Dir::Etc::Parts "${root}/pinget-empty-parts";`,
        `APT::Architecture "${arch}";`,
        'APT::Sandbox::User "root";',
        `DPkg::Options { "--root=${root}"; };`,
        'Acquire::Languages "none";',
        '',
      ].join('\n'),
    );
    const aptGet = (args: string[]) =>
      must('apt-get', ['-q', '-y', ...args], { env: { ...process.env, APT_CONFIG: conf, DEBIAN_FRONTEND: 'noninteractive' } });
    await aptGet(['update']);
    if (opts.install?.length) await aptGet(['install', '--no-install-recommends', ...opts.install]);
    return { root, aptGet, close };
  } catch (e) {
    await close();
    throw e;
  }
}

