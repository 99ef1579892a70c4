/**
 * Builds real pacman packages and repositories for tests, without makepkg (which refuses root):
 * a `.PKGINFO` written by hand, an `.MTREE` made by bsdtar the way makepkg makes it, the archive by
 * bsdtar --zstd, detached signatures by gpg with a throwaway key, the database by repo-add.
 * Also sets up scratch roots that pacman --root can populate. Callers remove the dirs they get.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPackage {
  name: string;
  /** `[epoch:]pkgver-pkgrel` */
  version: string;
  arch: string;
  depends?: string[];
  provides?: string[];
  conflicts?: string[];
  builddate: number;
  /** Contents of usr/share/pinget-test/<name>. */
  content?: string;
}

export function pkgFilename(p: TestPackage): string {
  return `${p.name}-${p.version}-${p.arch}.pkg.tar.zst`;
}

function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  return execFileSync(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] }).toString('utf8');
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `pinget-${prefix}-`));
}

/** A throwaway signing key in its own GNUPGHOME. */
export interface TestKey {
  home: string;
  fingerprint: string;
  /** Binary public key export. */
  publicKey: Buffer;
}

export function makeKey(dir: string, uid = 'pinget test <test@pinget.invalid>'): TestKey {
  const home = join(dir, 'gnupg');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  sh('gpg', ['--homedir', home, '--batch', '--passphrase', '', '--quick-gen-key', uid, 'ed25519', 'sign', 'never']);
  const out = sh('gpg', ['--homedir', home, '--batch', '--with-colons', '--list-keys']);
  const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(out)![1];
  const publicKey = execFileSync('gpg', ['--homedir', home, '--batch', '--export', fingerprint]);
  return { home, fingerprint, publicKey };
}

export function signFile(key: TestKey, file: string, sigFile = `${file}.sig`): void {
  sh('gpg', ['--homedir', key.home, '--batch', '--yes', '--detach-sign', '--no-armor', '-u', key.fingerprint, '-o', sigFile, file]);
}

/** Builds `<outDir>/<file>.pkg.tar.zst` (and `.sig` when a key is given); returns its path. */
export function buildPackage(p: TestPackage, outDir: string, key?: TestKey): string {
  const work = mkdtempSync(join(tmpdir(), 'pinget-pkgbuild-'));
  try {
    const dataDir = join(work, 'usr', 'share', 'pinget-test');
    mkdirSync(dataDir, { recursive: true });
    const content = p.content ?? `${p.name} ${p.version}\n`;
    writeFileSync(join(dataDir, p.name), content);
    const info = [
      `pkgname = ${p.name}`,
      `pkgbase = ${p.name}`,
      `pkgver = ${p.version}`,
      `pkgdesc = pinget test package ${p.name}`,
      `builddate = ${p.builddate}`,
      'packager = pinget tests <test@pinget.invalid>',
      `size = ${Buffer.byteLength(content)}`,
      `arch = ${p.arch}`,
      'license = MIT',
      ...(p.depends ?? []).map((d) => `depend = ${d}`),
      ...(p.provides ?? []).map((d) => `provides = ${d}`),
      ...(p.conflicts ?? []).map((d) => `conflict = ${d}`),
    ].join('\n');
    writeFileSync(join(work, '.PKGINFO'), `${info}\n`);
    for (const f of ['.PKGINFO', 'usr/share/pinget-test/' + p.name, 'usr/share/pinget-test', 'usr/share', 'usr']) {
      utimesSync(join(work, f), p.builddate, p.builddate);
    }
    const owner = ['--uid', '0', '--gid', '0', '--uname', 'root', '--gname', 'root'];
    // makepkg's create_package: an mtree of the payload, gzip-compressed, then the archive itself
    sh('bsdtar', ['-czf', '.MTREE', '--format=mtree', '--options=!all,use-set,type,uid,gid,mode,time,size,md5,sha256,link', ...owner, '.PKGINFO', 'usr'], {
      cwd: work,
      env: { LANG: 'C' },
    });
    utimesSync(join(work, '.MTREE'), p.builddate, p.builddate);
    const out = join(outDir, pkgFilename(p));
    mkdirSync(outDir, { recursive: true });
    sh('bsdtar', ['-cf', out, '--zstd', ...owner, '.PKGINFO', '.MTREE', 'usr'], { cwd: work });
    if (key) signFile(key, out);
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** repo-add of the given package files into `<dir>/<repo>.db.tar.gz` (+ the `<repo>.db` link pacman fetches). */
export function repoAdd(dir: string, repo: string, files: string[]): void {
  sh('repo-add', ['-q', join(dir, `${repo}.db.tar.gz`), ...files], { env: { LANG: 'C' } });
}

/** A detached signature of the repository's database, where pacman fetches it (`<repo>.db.sig`). */
export function signDb(dir: string, repo: string, key: TestKey): void {
  signFile(key, join(dir, `${repo}.db.tar.gz`), join(dir, `${repo}.db.sig`));
}

export function repoRemove(dir: string, repo: string, names: string[]): void {
  sh('repo-remove', ['-q', join(dir, `${repo}.db.tar.gz`), ...names], { env: { LANG: 'C' } });
}

export const OS_RELEASE = 'NAME="Arch Linux"\nPRETTY_NAME="Arch Linux"\nID=arch\nBUILD_ID=rolling\n';

/**
 * A scratch root with etc/os-release, etc/pacman.conf pointing at `serverUrl` for `repo`, the pacman
 * directories, and (with a key) a pacman keyring (pubring.gpg, as pacman-key makes it) holding it.
 */
export function makeRoot(root: string, opts: { repo: string; serverUrl?: string; key?: TestKey; sigLevel?: string }): void {
  for (const d of ['etc/pacman.d', 'var/lib/pacman', 'var/cache/pacman/pkg', 'var/log']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'etc/os-release'), OS_RELEASE);
  const conf = [
    '[options]',
    'Architecture = x86_64',
    `SigLevel = ${opts.sigLevel ?? 'Required DatabaseOptional TrustAll'}`,
    'LocalFileSigLevel = Optional TrustAll',
    '',
    `[${opts.repo}]`,
    'Include = /etc/pacman.d/mirrorlist',
    '',
  ];
  writeFileSync(join(root, 'etc/pacman.conf'), conf.join('\n'));
  writeFileSync(join(root, 'etc/pacman.d/mirrorlist'), opts.serverUrl ? `Server = ${opts.serverUrl}/$repo/os/$arch\n` : '');
  if (opts.key) {
    const gpgdir = join(root, 'etc/pacman.d/gnupg');
    mkdirSync(gpgdir, { recursive: true, mode: 0o700 });
    writeFileSync(join(gpgdir, 'pubring.gpg'), '');
    execFileSync('gpg', ['--homedir', gpgdir, '--batch', '--import'], { input: opts.key.publicKey, stdio: ['pipe', 'ignore', 'ignore'] });
  }
}

/**
 * pacman against a scratch root, with that root's config, db, cache and keyring. Asynchronous, so a
 * server in this same process can answer it.
 */
export async function pacman(root: string, args: string[]): Promise<string> {
  // pacman --root reads Include files from the host; point them into the root instead.
  const conf = readFileSync(join(root, 'etc/pacman.conf'), 'utf8').replace(/^(\s*Include\s*=\s*)(\/.*)$/gm, (_m, k: string, p: string) => `${k}${join(root, p)}`);
  const confDir = tempDir('pacman-conf');
  writeFileSync(join(confDir, 'pacman.conf'), conf);
  try {
    return await pacmanWithConfig(root, join(confDir, 'pacman.conf'), args);
  } finally {
    rmSync(confDir, { recursive: true, force: true });
  }
}

async function pacmanWithConfig(root: string, config: string, args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)('pacman', [
    '--config', config,
    '--root', root,
    '--dbpath', join(root, 'var/lib/pacman'),
    '--cachedir', join(root, 'var/cache/pacman/pkg'),
    '--gpgdir', join(root, 'etc/pacman.d/gnupg'),
    '--logfile', join(root, 'var/log/pacman.log'),
    '--hookdir', join(root, 'etc/pacman.d/hooks'),
    ...(/^-[SU]/.test(args[0] ?? '') ? ['--noconfirm', '--noprogressbar'] : []),
    ...args,
  ], { env: { ...process.env, LANG: 'C' } });
  return stdout;
}

/** `pacman -Q` as sorted "name version" lines. */
export async function queryInstalled(root: string): Promise<string[]> {
  return (await pacman(root, ['-Q'])).trim().split('\n').filter(Boolean).sort();
}

export function readBytes(file: string): Buffer {
  return readFileSync(file);
}
