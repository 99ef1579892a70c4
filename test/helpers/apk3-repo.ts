/**
 * Builds a signed apk v3 repository with the real apk 3 (built by .ci/setup.d/40-apk-tools.sh):
 * each package by `apk mkpkg` (the ADB `.apk` format) and the index by `apk mkndx`, both signed with
 * `--sign-key` by a test's RSA key (the `SigningKey` of ./apk-repo.ts, so v2 and v3 repos can share one).
 * The layout is apk's v3 repository layout, reached by a repositories line `v3 <dir>`:
 *   <dir>/<arch>/Packages.adb
 *   <dir>/<arch>/<name>-<version>.apk
 * File mtimes and SOURCE_DATE_EPOCH are fixed, so the same specs and key give the same bytes.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { FIXED_MTIME, type SigningKey } from './apk-repo.js';
import { apkBuildHint, realApk } from './real-apk.js';

const run = promisify(execFile);

export interface Apk3PackageSpec {
  name: string;
  version: string;
  /** The package's own arch field; defaults to the repository's (use `noarch` for arch-independent ones). */
  arch?: string;
  /** Dependency specs as apk writes them: `libfoo`, `libfoo>=2`, `so:libc.musl-x86_64.so.1`, `!conflict`. */
  depends?: string[];
  /** Provided names, versioned (`cmd:hello=1.0-r0`) or virtual (`hello-any`). */
  provides?: string[];
  /** Lets apk pick this package for a virtual (unversioned) provide on its own (`provider-priority`). */
  providerPriority?: number;
  /** Regular files, path under the root (no leading slash) -> content. Defaults to none. */
  files?: Record<string, string>;
  description?: string;
}

export interface Apk3RepoSpec {
  /** The repository's architecture: the directory the index and packages go into. */
  arch: string;
  packages: Apk3PackageSpec[];
  /** The index's description (`apk mkndx --description`). */
  description?: string;
}

export interface BuiltApk3 {
  name: string;
  version: string;
  arch: string;
  fileName: string;
  /** Absolute path of the `.apk` file. */
  path: string;
  bytes: Buffer;
  sha256: string;
}

export interface Apk3Repo {
  /** The repository base (a `v3 <dir>` repositories line). */
  dir: string;
  /** Absolute path of `<dir>/<arch>/Packages.adb`. */
  index: string;
  packages: BuiltApk3[];
  /** A directory holding the public key, for `apk --keys-dir` (apk 3 finds a v3 signature's key by its hash, not its file name). */
  keysDir: string;
}

/** The apk 3 wrapper, or an error telling how to build it. */
export async function apk3Binary(): Promise<string> {
  const apk = await realApk(3);
  if (apk === undefined) throw new Error(`apk 3 is not built: ${apkBuildHint}`);
  return apk;
}

const sourceDateEpoch = String(Math.floor(FIXED_MTIME.getTime() / 1000));

async function apk3(args: string[]): Promise<void> {
  const env = { ...process.env, SOURCE_DATE_EPOCH: sourceDateEpoch };
  await run(await apk3Binary(), args, { env, maxBuffer: 16 << 20 });
}

/** Writes `files` under a fresh tree with fixed mtimes (directories too), for `apk mkpkg --files`. */
async function stageFiles(stage: string, files: Record<string, string>): Promise<void> {
  const dirs = new Set<string>([stage]);
  for (const [path, body] of Object.entries(files)) {
    const abs = join(stage, path);
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(abs, body);
    for (let d = dirname(abs); d.startsWith(stage); d = dirname(d)) dirs.add(d);
    await utimes(abs, FIXED_MTIME, FIXED_MTIME);
  }
  for (const d of [...dirs].sort().reverse()) await utimes(d, FIXED_MTIME, FIXED_MTIME);
}

async function mkpkg(out: string, arch: string, p: Apk3PackageSpec, keyFile: string, scratch: string): Promise<void> {
  const info = [`name:${p.name}`, `version:${p.version}`, `arch:${p.arch ?? arch}`, `description:${p.description ?? `test package ${p.name}`}`, 'license:MIT'];
  if (p.depends?.length) info.push(`depends:${p.depends.join(' ')}`);
  if (p.provides?.length) info.push(`provides:${p.provides.join(' ')}`);
  if (p.providerPriority !== undefined) info.push(`provider-priority:${p.providerPriority}`);
  const args = ['mkpkg', ...info.flatMap((i) => ['--info', i]), '--sign-key', keyFile, '--output', out];
  if (p.files && Object.keys(p.files).length > 0) {
    const stage = join(scratch, `files-${p.name}`);
    await stageFiles(stage, p.files);
    args.push('--files', stage);
  }
  await apk3(args);
}

/**
 * Builds `<dir>/<arch>/` with one signed `.apk` per spec and a signed `Packages.adb` listing them.
 * `apk mkndx` checks each package's signature against `key`, as a real index build does.
 */
export async function buildApk3Repo(dir: string, spec: Apk3RepoSpec, key: SigningKey): Promise<Apk3Repo> {
  const archDir = join(dir, spec.arch);
  await mkdir(archDir, { recursive: true });
  const scratch = await mkdtemp(join(dir, '.apk3-build-'));
  try {
    const keyFile = join(scratch, key.name.replace(/\.pub$/, ''));
    await writeFile(keyFile, key.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const keysDir = join(dir, '.keys');
    await mkdir(keysDir, { recursive: true });
    await writeFile(join(keysDir, key.name), key.publicPem);
    const packages: BuiltApk3[] = [];
    for (const p of spec.packages) {
      const fileName = `${p.name}-${p.version}.apk`;
      const path = join(archDir, fileName);
      await mkpkg(path, spec.arch, p, keyFile, scratch);
      const bytes = await readFile(path);
      packages.push({ name: p.name, version: p.version, arch: p.arch ?? spec.arch, fileName, path, bytes, sha256: createHash('sha256').update(bytes).digest('hex') });
    }
    const index = join(archDir, 'Packages.adb');
    const desc = spec.description ? ['--description', spec.description] : [];
    // apk 3 fetches `${arch}/${name}-${version}.apk` with the package's own arch; a `noarch` package kept
    // in the arch directory needs the index to say so, as Alpine's builders do (mkndx's answer to v2's --rewrite-arch).
    const spec3 = packages.some((p) => p.arch !== spec.arch) ? ['--pkgname-spec', `${spec.arch}/\${name}-\${version}.apk`] : [];
    await apk3(['mkndx', '--keys-dir', keysDir, '--sign-key', keyFile, ...desc, ...spec3, '--output', index, ...packages.map((p) => p.path)]);
    return { dir, index, packages, keysDir };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
