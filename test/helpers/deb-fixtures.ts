/** Repository trees for the archive stand-ins: another .deb built in place, and the tree re-indexed and re-signed. */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { run } from '../../src/exec.js';
import { sha256File } from '../../src/verify/sha256.js';
import type { AptRepo, AptRoot, RepoPackage } from './apt-repo.js';
import type { Hook } from './http-server.js';

export const EPOCH = '1700000000';

export async function must(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const res = await run(cmd, args, opts);
  if (res.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${res.stderr}`);
  return res.stdout;
}

/** Packages (+.gz, .xz) and Release of a repository tree's `stable` suite, signed with the test repository's key. */
export async function reindex(repo: AptRepo, dir: string, arch: string): Promise<void> {
  const bin = join(dir, 'dists/stable/main', `binary-${arch}`);
  await writeFile(join(bin, 'Packages'), await must('apt-ftparchive', ['packages', 'pool'], { cwd: dir }));
  await must('gzip', ['-9', '-n', '-k', '-f', join(bin, 'Packages')]);
  await must('xz', ['-k', '-f', join(bin, 'Packages')]);
  const release = await must(
    'apt-ftparchive',
    ['-o', 'APT::FTPArchive::Release::Suite=stable', '-o', 'APT::FTPArchive::Release::Codename=stable', '-o', 'APT::FTPArchive::Release::Components=main', '-o', `APT::FTPArchive::Release::Architectures=${arch}`, 'release', 'dists/stable'],
    { cwd: dir },
  );
  await writeFile(join(dir, 'dists/stable/Release'), release);
  // The repository helper keeps its throwaway gpg home beside the repository directory.
  const env = { ...process.env, GNUPGHOME: join(dirname(repo.dir), 'gnupg') };
  await must('gpg', ['--batch', '--yes', '--clearsign', '-o', join(dir, 'dists/stable/InRelease'), join(dir, 'dists/stable/Release')], { env });
}

/** A .deb of `name` `version` at its pool path under `dir`; `note` makes builds of one version differ. */
export async function buildDeb(dir: string, name: string, version: string, arch: string, note: string): Promise<string> {
  const tree = await mkdtemp(join(tmpdir(), 'pinget-archdeb-'));
  try {
    await mkdir(join(tree, 'DEBIAN'));
    await mkdir(join(tree, 'usr/share/doc', name), { recursive: true });
    await writeFile(join(tree, 'usr/share/doc', name, 'NOTE'), note);
    await writeFile(join(tree, 'DEBIAN/control'), `Package: ${name}\nVersion: ${version}\nArchitecture: ${arch}\nMaintainer: t <t@example.invalid>\nDescription: test\n`);
    const file = join(dir, `pool/main/${name[0]}/${name}/${name}_${version}_${arch}.deb`);
    await mkdir(dirname(file), { recursive: true });
    await must('dpkg-deb', ['--root-owner-group', '--build', tree, file], { env: { ...process.env, SOURCE_DATE_EPOCH: EPOCH } });
    return file;
  } finally {
    await rm(tree, { recursive: true, force: true });
  }
}

/**
 * Another build of `name` `version` put into every form (plain, .gz, .xz) of the Packages index served at
 * `urlDir` (its file under `fileDir`), as a hook; the signed Release still lists the genuine forms.
 * Returns the other build's sha256 too, which a test asserts is printed nowhere.
 */
export async function otherBuildHook(o: { fileDir: string; urlDir: string; genuineSha: string; name: string; version: string; arch: string; work: string }): Promise<{ hook: Hook; otherSha: string }> {
  const otherSha = await sha256File(await buildDeb(o.work, o.name, o.version, o.arch, 'another build'));
  const altered = (await readFile(join(o.fileDir, 'Packages'), 'latin1')).replace(o.genuineSha, otherSha);
  if (!altered.includes(otherSha)) throw new Error(`${o.fileDir}/Packages does not list ${o.genuineSha}`);
  await writeFile(join(o.work, 'Packages'), altered, 'latin1');
  await must('xz', ['-k', '-f', join(o.work, 'Packages')]);
  const forms: Record<string, Buffer> = {
    [`${o.urlDir}/Packages`]: Buffer.from(altered, 'latin1'),
    [`${o.urlDir}/Packages.gz`]: gzipSync(Buffer.from(altered, 'latin1')),
    [`${o.urlDir}/Packages.xz`]: await readFile(join(o.work, 'Packages.xz')),
  };
  const hook: Hook = (_req, res, rel) => {
    if (!forms[rel]) return false;
    res.writeHead(200, { 'content-length': forms[rel].length }).end(forms[rel]);
    return true;
  };
  return { hook, otherSha };
}

/**
 * The live repository moves on: `next` replaces `pkg`'s installed version and the root's lists are
 * updated; apt's cache is emptied, so no file on this machine has the installed version any more.
 */
export async function supersede(repo: AptRepo, root: AptRoot, pkg: RepoPackage, next: string, arch: string): Promise<void> {
  await rm(pkg.file);
  await buildDeb(repo.dir, pkg.name, next, arch, 'the next one');
  await reindex(repo, repo.dir, arch);
  await root.aptGet(['update']);
  await root.aptGet(['clean']);
}
