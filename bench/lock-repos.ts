/**
 * The repositories the Arch and Fedora `lock` figures resolve against, generated at bench time under .bench/
 * (reused while their key matches): COUNT packages with a deep dependency graph (each package needs up to
 * three of the 300 before it, every 25th provides a virtual name others need, every 7th recommends one), as
 * a signed pacman sync database and a signed rpm-md repository (primary, filelists, repomd.xml.asc). Only
 * metadata: `lock` never reads a package file, so none is made. Each comes with a base root whose repo
 * configuration points at a server URL filled in per run and whose keyring holds the signing key.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import { BENCH_DIR } from './fixtures.js';

export const LOCK_COUNT = Number(process.env.BENCH_LOCK_PACKAGES ?? 5000);
/** Top of the graph: their closure is most of the repository. */
export const lockNames = (count: number) => [count - 1, count - 2, Math.floor(count * 0.6), Math.floor(count * 0.3)].map(pkgName);

const pkgName = (i: number) => `bench${String(i).padStart(5, '0')}`;
const KEY_UID = 'pinget bench <bench@pinget.invalid>';
const BUILD = 1_700_000_000;

interface Gen {
  name: string;
  deps: string[];
  provides: string[];
  recommends: string[];
}

/** A deterministic graph (an LCG, so every run and machine sees the same repository). */
function graph(count: number): Gen[] {
  let s = 12345;
  const rnd = (n: number) => ((s = (s * 1103515245 + 12345) % 2 ** 31), s % n);
  const out: Gen[] = [];
  for (let i = 0; i < count; i++) {
    const deps = new Set<string>();
    for (let k = 0, n = i ? 1 + rnd(3) : 0; k < n; k++) deps.add(pkgName(Math.max(0, i - 1 - rnd(Math.min(i, 300)))));
    const provides = i % 25 === 0 ? [`virt${i / 25}`] : [];
    if (i > 50 && i % 11 === 0) deps.add(`virt${rnd(Math.floor(i / 25))}`);
    const recommends = i > 10 && i % 7 === 0 ? [pkgName(rnd(i))] : [];
    out.push({ name: pkgName(i), deps: [...deps], provides, recommends });
  }
  return out;
}

const fakeSha = (s: string) => createHash('sha256').update(s).digest('hex');

async function ensureKey(dir: string): Promise<{ home: string; armored: string; binary: Buffer }> {
  const home = join(dir, 'gnupg');
  if (!existsSync(join(dir, 'key.asc'))) {
    await rm(dir, { recursive: true, force: true });
    await mkdir(home, { recursive: true, mode: 0o700 });
    execFileSync('gpg', ['--homedir', home, '--batch', '--passphrase', '', '--quick-gen-key', KEY_UID, 'ed25519', 'sign', 'never'], { stdio: 'ignore' });
    await writeFile(join(dir, 'key.asc'), execFileSync('gpg', ['--homedir', home, '--batch', '--armor', '--export', KEY_UID]));
  }
  const binary = execFileSync('gpg', ['--homedir', home, '--batch', '--export', KEY_UID]);
  return { home, armored: await readFile(join(dir, 'key.asc'), 'utf8'), binary };
}

const sign = (home: string, file: string, armor: boolean) =>
  execFileSync('gpg', ['--homedir', home, '--batch', '--yes', '--detach-sign', ...(armor ? ['--armor'] : []), '-u', KEY_UID, '-o', `${file}${armor ? '.asc' : '.sig'}`, file], { stdio: 'ignore' });

async function tarGz(files: [string, string][]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const [name, text] of files) pack.entry({ name, mtime: new Date(BUILD * 1000) }, text);
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

export interface ArchBench {
  /** Served directory: `<repo>/os/x86_64/<repo>.db` and its `.sig`. */
  www: string;
  repo: string;
  /** The base root; its mirrorlist is written by `pointArchBase`. */
  base: string;
  names: string[];
}

function archDesc(g: Gen): string {
  const ver = '1.0-1';
  const file = `${g.name}-${ver}-x86_64.pkg.tar.zst`;
  const block = (k: string, v: string[]) => (v.length ? `%${k}%\n${v.join('\n')}\n\n` : '');
  return [
    block('FILENAME', [file]), block('NAME', [g.name]), block('BASE', [g.name]), block('VERSION', [ver]),
    block('DESC', [`bench package ${g.name}`]), block('CSIZE', ['4096']), block('ISIZE', ['16384']),
    block('SHA256SUM', [fakeSha(file)]), block('PGPSIG', [Buffer.from(fakeSha(`${file}.sig`)).toString('base64')]),
    block('URL', ['https://pinget.invalid/']), block('LICENSE', ['MIT']), block('ARCH', ['x86_64']),
    block('BUILDDATE', [String(BUILD)]), block('PACKAGER', ['pinget bench']),
    block('DEPENDS', g.deps), block('OPTDEPENDS', g.recommends), block('PROVIDES', g.provides),
  ].join('');
}

export async function archBench(count = LOCK_COUNT): Promise<ArchBench> {
  const dir = join(BENCH_DIR, 'lock-arch');
  const repo = 'benchcore';
  const out: ArchBench = { www: join(dir, 'www'), repo, base: join(dir, 'base'), names: lockNames(count) };
  const key = await ensureKey(join(BENCH_DIR, 'lock-key'));
  const stamp = join(dir, 'key');
  if ((await readFile(stamp, 'utf8').catch(() => '')) === `v1 ${count}`) return out;
  await rm(dir, { recursive: true, force: true });
  const db = join(out.www, repo, 'os', 'x86_64');
  await mkdir(db, { recursive: true });
  const gens = graph(count);
  await writeFile(join(db, `${repo}.db`), await tarGz(gens.map((g) => [`${g.name}-1.0-1/desc`, archDesc(g)])));
  sign(key.home, join(db, `${repo}.db`), false);
  for (const d of ['etc/pacman.d/gnupg', 'var/lib/pacman/local', 'var/cache/pacman/pkg']) await mkdir(join(out.base, d), { recursive: true, mode: 0o700 });
  await writeFile(join(out.base, 'var/lib/pacman/local/ALPM_DB_VERSION'), '9\n');
  await writeFile(join(out.base, 'etc/os-release'), 'NAME="Arch Linux"\nID=arch\nBUILD_ID=rolling\n');
  await writeFile(join(out.base, 'etc/pacman.conf'), `[options]\nArchitecture = x86_64\nSigLevel = Required DatabaseRequired TrustAll\n\n[${repo}]\nInclude = /etc/pacman.d/mirrorlist\n`);
  await writeFile(join(out.base, 'etc/pacman.d/gnupg/pubring.gpg'), '');
  execFileSync('gpg', ['--homedir', join(out.base, 'etc/pacman.d/gnupg'), '--batch', '--import'], { input: key.binary, stdio: ['pipe', 'ignore', 'ignore'] });
  execFileSync('gpgconf', ['--homedir', join(out.base, 'etc/pacman.d/gnupg'), '--kill', 'all'], { stdio: 'ignore' });
  await writeFile(stamp, `v1 ${count}`);
  return out;
}

export async function pointArchBase(b: ArchBench, url: string): Promise<void> {
  await writeFile(join(b.base, 'etc/pacman.d/mirrorlist'), `Server = ${url}/$repo/os/$arch\n`);
}

export interface FedoraBench {
  /** The rpm-md repository (repodata/ only), served and read by the reference from disk. */
  repoDir: string;
  base: string;
  names: string[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function rpmEntries(tag: string, names: string[], self?: string): string {
  const all = self ? [`<rpm:entry name="${self}" flags="EQ" epoch="0" ver="1.0" rel="1.fc40"/>`] : [];
  all.push(...names.map((n) => `<rpm:entry name="${esc(n)}"/>`));
  return all.length ? `<rpm:${tag}>${all.join('')}</rpm:${tag}>` : '';
}

function primaryPackage(g: Gen): string {
  const nvr = `${g.name}-1.0-1.fc40`;
  return [
    '<package type="rpm">', `<name>${g.name}</name><arch>x86_64</arch><version epoch="0" ver="1.0" rel="1.fc40"/>`,
    `<checksum type="sha256" pkgid="YES">${fakeSha(nvr)}</checksum><summary>bench ${g.name}</summary><description>bench package</description>`,
    `<packager>pinget bench</packager><url>https://pinget.invalid/</url><time file="${BUILD}" build="${BUILD}"/><size package="4096" installed="16384" archive="16500"/>`,
    `<location href="Packages/b/${nvr}.x86_64.rpm"/><format><rpm:license>MIT</rpm:license><rpm:vendor>bench</rpm:vendor><rpm:group>Unspecified</rpm:group>`,
    `<rpm:buildhost>bench</rpm:buildhost><rpm:sourcerpm>${nvr}.src.rpm</rpm:sourcerpm><rpm:header-range start="4504" end="6000"/>`,
    rpmEntries('provides', g.provides, g.name), rpmEntries('requires', g.deps), rpmEntries('recommends', g.recommends),
    `<file>/usr/share/${g.name}/data</file></format></package>`,
  ].join('');
}

async function repomdEntry(dir: string, type: string, plain: string): Promise<string> {
  const gz = gzipSync(Buffer.from(plain));
  const sum = createHash('sha256').update(gz).digest('hex');
  const href = `repodata/${sum}-${type}.xml.gz`;
  await writeFile(join(dir, href), gz);
  return `<data type="${type}"><checksum type="sha256">${sum}</checksum><open-checksum type="sha256">${createHash('sha256').update(plain).digest('hex')}</open-checksum><location href="${href}"/><timestamp>${BUILD}</timestamp><size>${gz.length}</size><open-size>${Buffer.byteLength(plain)}</open-size></data>`;
}

export async function fedoraBench(rpmEnv: NodeJS.ProcessEnv, count = LOCK_COUNT): Promise<FedoraBench> {
  const dir = join(BENCH_DIR, 'lock-fedora');
  const out: FedoraBench = { repoDir: join(dir, 'repo'), base: join(dir, 'base'), names: lockNames(count) };
  const key = await ensureKey(join(BENCH_DIR, 'lock-key'));
  const stamp = join(dir, 'key');
  if ((await readFile(stamp, 'utf8').catch(() => '')) === `v1 ${count}`) return out;
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(out.repoDir, 'repodata'), { recursive: true });
  const gens = graph(count);
  const primary = `<?xml version="1.0" encoding="UTF-8"?>\n<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="${count}">\n${gens.map(primaryPackage).join('\n')}\n</metadata>\n`;
  const filelists = `<?xml version="1.0" encoding="UTF-8"?>\n<filelists xmlns="http://linux.duke.edu/metadata/filelists" packages="${count}">\n${gens
    .map((g) => `<package pkgid="${fakeSha(`${g.name}-1.0-1.fc40`)}" name="${g.name}" arch="x86_64"><version epoch="0" ver="1.0" rel="1.fc40"/><file>/usr/share/${g.name}/data</file></package>`)
    .join('\n')}\n</filelists>\n`;
  const data = [await repomdEntry(out.repoDir, 'primary', primary), await repomdEntry(out.repoDir, 'filelists', filelists)];
  const repomd = join(out.repoDir, 'repodata/repomd.xml');
  await writeFile(repomd, `<?xml version="1.0" encoding="UTF-8"?>\n<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm"><revision>${BUILD}</revision>${data.join('')}</repomd>\n`);
  sign(key.home, repomd, true);
  for (const d of ['etc/yum.repos.d', 'etc/pki/rpm-gpg', 'var/lib/rpm']) await mkdir(join(out.base, d), { recursive: true });
  await writeFile(join(out.base, 'etc/os-release'), 'NAME="Fedora Linux"\nID=fedora\nVERSION_ID=40\n');
  await writeFile(join(out.base, 'etc/pki/rpm-gpg/RPM-GPG-KEY-bench'), key.armored);
  execFileSync('rpm', ['--root', out.base, '--dbpath', '/var/lib/rpm', '--initdb'], { env: rpmEnv, stdio: 'ignore' });
  await writeFile(stamp, `v1 ${count}`);
  return out;
}

export async function pointFedoraBase(b: FedoraBench, url: string): Promise<void> {
  await writeFile(
    join(b.base, 'etc/yum.repos.d/bench.repo'),
    `[bench]\nname=bench\nbaseurl=${url}/\nenabled=1\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-bench\n`,
  );
}
