/**
 * Builds real rpm repositories for tests with the distro tools: rpmbuild, rpmsign (gpg), createrepo_c,
 * and populates roots with dnf --installroot. Debian's rpm keeps its database in ~/.rpmdb, so every
 * tool runs with HOME set to a scratch home whose .rpmmacros sets the database path Fedora uses.
 */
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runChecked } from '../../src/exec.js';
import { isolatedDnfOptions } from '../../distros/fedora/dnf-isolated.js';

export interface RpmSpec {
  name: string;
  version: string;
  release: string;
  /** 'noarch', or undefined for the build machine's arch. */
  arch?: 'noarch';
  requires?: string[];
  recommends?: string[];
  provides?: string[];
  conflicts?: string[];
}

export interface GpgKey {
  home: string;
  uid: string;
  /** Armored public key file. */
  publicKey: string;
}

export interface RpmToolsEnv {
  env: NodeJS.ProcessEnv;
}

/** A scratch HOME for rpm tools (database path, build tree, gpg). */
export async function rpmToolsEnv(dir: string, key?: GpgKey): Promise<RpmToolsEnv> {
  const home = join(dir, 'home');
  await mkdir(home, { recursive: true });
  const macros = ['%_topdir ' + join(dir, 'rpmbuild'), '%_dbpath /var/lib/rpm', '%debug_package %{nil}', '%__gpg /usr/bin/gpg'];
  if (key) macros.push(`%_gpg_name ${key.uid}`);
  await writeFile(join(home, '.rpmmacros'), macros.join('\n') + '\n');
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, LC_ALL: 'C' };
  if (key) env.GNUPGHOME = key.home;
  return { env };
}

export async function makeGpgKey(dir: string, uid: string): Promise<GpgKey> {
  const home = join(dir, 'gnupg');
  await mkdir(home, { recursive: true, mode: 0o700 });
  const env = { ...process.env, GNUPGHOME: home };
  await runChecked('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', uid, 'rsa2048', 'sign', 'never'], 'INTERNAL', { env });
  const exported = await runChecked('gpg', ['--armor', '--export', uid], 'INTERNAL', { env });
  const publicKey = join(dir, 'key.asc');
  await writeFile(publicKey, exported.stdout);
  return { home, uid, publicKey };
}

function specText(p: RpmSpec, source: boolean): string {
  return [
    `Name: ${p.name}`,
    `Version: ${p.version}`,
    `Release: ${p.release}`,
    `Summary: pinget test package ${p.name}`,
    'License: MIT',
    ...(source ? [`Source0: ${p.name}-README`] : []),
    ...(p.arch ? [`BuildArch: ${p.arch}`] : []),
    ...(p.requires ?? []).map((r) => `Requires: ${r}`),
    ...(p.recommends ?? []).map((r) => `Recommends: ${r}`),
    ...(p.provides ?? []).map((r) => `Provides: ${r}`),
    ...(p.conflicts ?? []).map((r) => `Conflicts: ${r}`),
    '%description',
    `Test package ${p.name}.`,
    '%install',
    `mkdir -p %{buildroot}/usr/share/${p.name}`,
    `echo ${p.name}-${p.version} > %{buildroot}/usr/share/${p.name}/data`,
    '%files',
    `/usr/share/${p.name}/data`,
    '',
  ].join('\n');
}

/**
 * Builds the rpms (signed with `key` when given) and returns their paths. With `sources`, each spec has a
 * Source0 file and rpmbuild -ba also writes its .src.rpm (signed too), listed by sourceRpmsOf(dir).
 */
export async function buildRpms(dir: string, specs: RpmSpec[], key?: GpgKey, opts: { sources?: boolean } = {}): Promise<string[]> {
  const { env } = await rpmToolsEnv(dir, key);
  const specDir = join(dir, 'rpmbuild', 'SPECS');
  const sourceDir = join(dir, 'rpmbuild', 'SOURCES');
  await mkdir(specDir, { recursive: true });
  await mkdir(sourceDir, { recursive: true });
  const out: string[] = [];
  for (const p of specs) {
    const spec = join(specDir, `${p.name}.spec`);
    await writeFile(spec, specText(p, !!opts.sources));
    if (opts.sources) await writeFile(join(sourceDir, `${p.name}-README`), `the source of ${p.name}\n`);
    await runChecked('rpmbuild', [opts.sources ? '-ba' : '-bb', '--quiet', spec], 'INTERNAL', { env });
  }
  const rpmsDir = join(dir, 'rpmbuild', 'RPMS');
  for (const arch of (await readdir(rpmsDir)).sort()) {
    for (const f of (await readdir(join(rpmsDir, arch))).sort()) out.push(join(rpmsDir, arch, f));
  }
  const srpms = opts.sources ? await sourceRpmsOf(dir) : [];
  if (key) await runChecked('rpmsign', ['--addsign', ...out, ...srpms], 'INTERNAL', { env });
  return out;
}

/** The .src.rpm files buildRpms(dir, ..., { sources: true }) wrote. */
export async function sourceRpmsOf(dir: string): Promise<string[]> {
  const srpmsDir = join(dir, 'rpmbuild', 'SRPMS');
  return (await readdir(srpmsDir)).sort().map((f) => join(srpmsDir, f));
}

/** createrepo_c over a copy of the rpms; repomd.xml.asc signed with `key` when given. */
export async function makeRepo(repoDir: string, rpms: string[], key?: GpgKey): Promise<void> {
  await mkdir(join(repoDir, 'Packages'), { recursive: true });
  for (const f of rpms) await copyFile(f, join(repoDir, 'Packages', f.slice(f.lastIndexOf('/') + 1)));
  await runChecked('createrepo_c', ['--no-database', '--quiet', repoDir], 'INTERNAL');
  if (key) {
    await runChecked('gpg', ['--batch', '--yes', '--armor', '--detach-sign', join(repoDir, 'repodata', 'repomd.xml')], 'INTERNAL', {
      env: { ...process.env, GNUPGHOME: key.home },
    });
  }
}

/** Lays the rpms out in Koji's layout (<srpm>/<v>/<r>/<arch>/<file>), as a provider directory. */
export async function makeKojiTree(dir: string, rpms: string[], env: NodeJS.ProcessEnv): Promise<void> {
  for (const f of rpms) {
    const q = await runChecked('rpm', ['-qp', '--nosignature', '--qf', '%{SOURCERPM} %{VERSION} %{RELEASE} %{ARCH}', f], 'INTERNAL', { env });
    const [srpm, , , arch] = q.stdout.trim().split(' ');
    const m = /^(.+)-([^-]+)-([^-]+)\.src\.rpm$/.exec(srpm)!;
    const target = join(dir, m[1], m[2], m[3], arch);
    await mkdir(target, { recursive: true });
    await copyFile(f, join(target, f.slice(f.lastIndexOf('/') + 1)));
  }
}

/**
 * The dnf options of a test's dnf runs on a root populateRoot made: the repository it wrote in work/host-repos
 * and nothing of the host's (its dnf.conf, repos and plugins).
 */
export async function hostDnfOptions(work: string): Promise<string[]> {
  const scratch = join(work, 'dnf-host');
  await mkdir(scratch, { recursive: true });
  return isolatedDnfOptions(scratch, join(work, 'host-repos'));
}

/**
 * Writes the root's os-release, key and /etc/yum.repos.d/test.repo (gpgkey inside the root), then runs
 * dnf --installroot. dnf resolves file:// gpgkeys on the host, so dnf itself gets a twin of the repo file
 * (same id) pointing at the key's host path through reposdir.
 */
export async function populateRoot(
  work: string,
  root: string,
  repoUrl: string,
  key: GpgKey,
  packages: string[],
  env: NodeJS.ProcessEnv,
): Promise<void> {
  await mkdir(join(root, 'etc', 'yum.repos.d'), { recursive: true });
  await mkdir(join(root, 'etc', 'pki', 'rpm-gpg'), { recursive: true });
  await writeFile(join(root, 'etc', 'os-release'), 'NAME="Fedora Linux"\nID=fedora\nVERSION_ID=40\nPRETTY_NAME="Fedora Linux 40"\n');
  await writeFile(join(root, 'etc', 'pki', 'rpm-gpg', 'RPM-GPG-KEY-pinget-test'), await readFile(key.publicKey));
  const repo = (keyPath: string) =>
    `[pinget-test]\nname=pinget test $releasever $basearch\nbaseurl=${repoUrl}/\nenabled=1\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey=file://${keyPath}\n`;
  await writeFile(join(root, 'etc', 'yum.repos.d', 'test.repo'), repo('/etc/pki/rpm-gpg/RPM-GPG-KEY-pinget-test'));
  const hostRepos = join(work, 'host-repos');
  await mkdir(hostRepos, { recursive: true });
  await writeFile(join(hostRepos, 'test.repo'), repo(join(root, 'etc', 'pki', 'rpm-gpg', 'RPM-GPG-KEY-pinget-test')));
  await runChecked(
    'dnf',
    ['-y', '-q', `--installroot=${root}`, '--releasever=40', ...(await hostDnfOptions(work)), '--setopt=install_weak_deps=False', 'install', ...packages],
    'INTERNAL',
    { env },
  );
}
