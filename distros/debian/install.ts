/**
 * Hands verified .deb files to dpkg in one call. The cache's blobs have no extension and dpkg wants to see
 * `.deb` files, so they are symlinked under their pool basenames into a temp dir first.
 *
 * A root other than '/' uses `dpkg --root=<root>`: dpkg then reads and writes <root>/var/lib/dpkg and unpacks
 * under <root>; maintainer scripts run chrooted into <root>, so packages with scripts need a root that can run
 * them (a real image root). No --force option is used: none is needed for script-less packages, and forcing
 * would hide real dependency problems.
 *
 * dpkg (1.21, bookworm) reads /etc/dpkg/dpkg.cfg{,.d/*} and ~/.dpkg.cfg of the host even with --root (checked:
 * a host `path-exclude` drops files from the root), and logs to the host's /var/log/dpkg.log. So for a root
 * other than '/', dpkg runs in a private mount namespace where the root's own etc/dpkg (or an empty directory)
 * is bound over /etc/dpkg, with HOME pointing at an empty directory and `--log` into the root.
 */
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { getuid } from 'node:process';
import { tmpdir } from 'node:os';
import pLimit from 'p-limit';
import { basename, join, resolve } from 'node:path';
import { PingetError, reasonOf } from '../../src/errors.js';
import { failureReason, run } from '../../src/exec.js';
import type { InstallOptions, InstallReport, LocalFile, PackageRef } from '../../src/distro/types.js';
import { parseDpkgStatus } from './dpkg-status.js';
import { readDebControlFields } from './deb-control.js';
import { readFile } from 'node:fs/promises';

const keyOf = (p: PackageRef) => `${p.name}\0${p.version}\0${p.arch}`;

/** Package, Version, Architecture of a .deb, from its control file (read in-process: deb-control.ts). */
export async function debControl(file: string, what: string): Promise<PackageRef> {
  let f: Map<string, string>;
  try {
    f = await readDebControlFields(file);
  } catch (e) {
    throw new PingetError('BAD_INPUT', `${what}: not a readable .deb (${reasonOf(e)})`, { cause: e });
  }
  const [name, version, arch] = [f.get('package'), f.get('version'), f.get('architecture')];
  if (!name || !version || !arch) throw new PingetError('BAD_INPUT', `${what}: not a readable .deb (its control file lacks Package, Version or Architecture)`);
  return { name, version, arch };
}

/** Control reads of verified cache files, started by readControlAhead and taken by installDebs. */
const controlsAhead = new Map<string, Promise<PackageRef>>();
/** Only each file's head is read; a few at once keep the disk busy without opening hundreds of files. */
const controlReads = pLimit(8);

function readControl(file: string, what: string): Promise<PackageRef> {
  return controlReads(() => debControl(file, what));
}

/** Starts reading a verified .deb's control fields for a coming installDebs (the adapter's readAhead). */
export function readControlAhead(file: string, what: string): void {
  if (controlsAhead.has(file)) return;
  const read = readControl(file, what);
  read.catch(() => {}); // taken, and its error thrown, by installDebs
  controlsAhead.set(file, read);
}

/**
 * Creates the bits of <root>/var/lib/dpkg that dpkg --root expects, when missing (a fresh, empty root), and
 * var/log for its log. No `available` file: dpkg 1.21 does not need one and an apt-built root has none.
 */
export async function ensureDpkgAdmin(root: string): Promise<void> {
  const admin = join(root, 'var/lib/dpkg');
  for (const d of ['info', 'updates', 'triggers']) await mkdir(join(admin, d), { recursive: true });
  await mkdir(join(root, 'var/log'), { recursive: true });
  if (!(await stat(join(admin, 'status')).catch(() => undefined))) await writeFile(join(admin, 'status'), '');
}

/** dpkg's options for a root other than '/': its database and its log inside the root. */
export function dpkgRootArgs(root: string): string[] {
  return [`--root=${root}`, `--admindir=${join(root, 'var/lib/dpkg')}`, `--log=${join(root, 'var/log/dpkg.log')}`];
}

let privateMounts: Promise<boolean> | undefined;
/** Can this process make a private mount namespace (root, with util-linux's unshare)? Asked once. */
function canUnshare(): Promise<boolean> {
  privateMounts ??= getuid?.() === 0 ? run('unshare', ['--mount', '--propagation', 'private', 'true']).then((r) => r.code === 0, () => false) : Promise.resolve(false);
  return privateMounts;
}

/**
 * The command that runs `dpkg ARGS` for root with the root's own configuration: in a private mount namespace
 * with <root>/etc/dpkg (else `empty`) bound over /etc/dpkg. Without that privilege dpkg runs as it is and
 * reads the host's configuration (said with --verbose).
 */
export async function dpkgCommand(root: string, args: string[], empty: string, log: InstallOptions['log']): Promise<[string, string[]]> {
  if (!(await canUnshare())) {
    log.verbose('cannot make a private mount namespace (not root?): dpkg reads the host\'s /etc/dpkg configuration');
    return ['dpkg', args];
  }
  const own = join(root, 'etc/dpkg');
  const cfg = (await stat(own).catch(() => undefined))?.isDirectory() ? own : empty;
  // sh's $0 is the config directory, "$@" dpkg's arguments: nothing is interpolated into the script.
  return ['unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount --bind "$0" /etc/dpkg && exec dpkg "$@"', cfg, ...args]];
}

export async function installDebs(files: LocalFile[], rootIn: string, opts: InstallOptions): Promise<InstallReport> {
  const root = resolve(rootIn);
  const isHost = root === '/';
  // The namespace probe runs while the control files are read.
  if (!isHost) void canUnshare();
  const presentRefs = opts.installed ? Promise.resolve(opts.installed) : readFile(join(root, 'var/lib/dpkg/status'), 'utf8').then(parseDpkgStatus, () => []);
  presentRefs.catch(() => {}); // awaited below, after the control reads
  const report: InstallReport = { installed: [], skipped: [] };
  const refsRead = Promise.all(
    files.map((f) => {
      const ahead = controlsAhead.get(f.file);
      controlsAhead.delete(f.file);
      return ahead ?? readControl(f.file, f.entry.path);
    }),
  );
  refsRead.catch(() => {}); // awaited below; a bad .deb must not be an unhandled rejection meanwhile
  // dpkg wants `.deb` names: every file gets its symlink while the control files are read.
  const taken = new Set<string>();
  const names = files.map((f) => {
    let name = basename(f.entry.path);
    if (!name.endsWith('.deb')) name += '.deb';
    while (taken.has(name)) name = `x${name}`;
    taken.add(name);
    return name;
  });
  const tmp = await mkdtemp(join(tmpdir(), 'pinget-dpkg-'));
  try {
    const debs = join(tmp, 'debs');
    const empty = join(tmp, 'empty');
    await mkdir(debs);
    await mkdir(empty);
    await Promise.all(files.map((f, i) => symlink(resolve(f.file), join(debs, names[i]))));
    const refs = await refsRead;
    const present = new Set((await presentRefs).map(keyOf));
    const todo: string[] = [];
    for (const [i, ref] of refs.entries()) {
      if (present.has(keyOf(ref)) && !opts.reinstall) {
        report.skipped.push(ref);
        continue;
      }
      todo.push(join(debs, names[i]));
      report.installed.push(ref);
    }
    if (todo.length === 0) return report;
    if (!isHost) await ensureDpkgAdmin(root);
    const args = [...(isHost ? [] : dpkgRootArgs(root)), '--install', ...todo];
    const [cmd, argv] = isHost ? ['dpkg', args] : await dpkgCommand(root, args, empty, opts.log);
    opts.log.verbose(`${cmd} ${argv.join(' ')}`);
    const res = await run(cmd, argv, {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', ...(isHost ? {} : { HOME: empty }) },
      missingHint: 'dpkg is part of every Debian/Ubuntu system; is this one?',
    });
    if (res.code !== 0) {
      // dpkg names each .deb by its temporary link: the pool basename is what the user knows
      const output = (res.stderr.trim() ? res.stderr : res.stdout).replaceAll(`${debs}/`, '');
      throw new PingetError('PACKAGE_MANAGER', `dpkg --install failed (exit ${res.code}): ${failureReason(output).join('; ')}`, {
        details: failureReason(output, 20),
      });
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return report;
}
