/**
 * Hands verified .deb files to dpkg in one call. The cache's blobs have no extension and dpkg wants to see
 * `.deb` files, so they are symlinked under their pool basenames into a temp dir first.
 *
 * A root other than '/' uses `dpkg --root=<root>`: dpkg then reads and writes <root>/var/lib/dpkg and unpacks
 * under <root>; maintainer scripts run chrooted into <root>, so packages with scripts need a root that can run
 * them (a real image root). No --force option is used: none is needed for script-less packages, and forcing
 * would hide real dependency problems.
 */
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import pLimit from 'p-limit';
import { basename, join, resolve } from 'node:path';
import { PingetError } from '../../src/errors.js';
import { run, runChecked } from '../../src/exec.js';
import type { InstallOptions, InstallReport, LocalFile, PackageRef } from '../types.js';
import { parseDpkgStatus } from './dpkg-status.js';
import { readFile } from 'node:fs/promises';

const keyOf = (p: PackageRef) => `${p.name}\0${p.version}\0${p.arch}`;

/** Package, Version, Architecture of a .deb, from its control file. */
export async function debControl(file: string, what: string): Promise<PackageRef> {
  const res = await run('dpkg-deb', ['-f', file, 'Package', 'Version', 'Architecture'], { missingHint: 'install dpkg' });
  const f: Record<string, string> = {};
  for (const line of res.stdout.split('\n')) {
    const c = line.indexOf(':');
    if (c > 0) f[line.slice(0, c).toLowerCase()] = line.slice(c + 1).trim();
  }
  if (res.code !== 0 || !f.package || !f.version || !f.architecture) {
    throw new PingetError('BAD_INPUT', `${what}: not a readable .deb (${res.stderr.trim().split('\n').pop() ?? 'dpkg-deb failed'})`);
  }
  return { name: f.package, version: f.version, arch: f.architecture };
}

/** Creates the bits of <root>/var/lib/dpkg that dpkg --root expects, when missing (a fresh, empty root). */
export async function ensureDpkgAdmin(root: string): Promise<void> {
  const admin = join(root, 'var/lib/dpkg');
  for (const d of ['info', 'updates', 'triggers']) await mkdir(join(admin, d), { recursive: true });
  for (const f of ['status', 'available']) {
    if (!(await stat(join(admin, f)).catch(() => undefined))) await writeFile(join(admin, f), '');
  }
}

export async function installDebs(files: LocalFile[], rootIn: string, opts: InstallOptions): Promise<InstallReport> {
  const root = resolve(rootIn);
  const isHost = root === '/';
  const statusText = await readFile(join(root, 'var/lib/dpkg/status'), 'utf8').catch(() => '');
  const present = new Set(parseDpkgStatus(statusText).map(keyOf));
  const report: InstallReport = { installed: [], skipped: [] };
  const todo: { file: string; name: string }[] = [];
  const names = new Set<string>();
  // One dpkg-deb per file: run a few at once rather than one after another (40 .debs: ~260 ms -> ~90 ms).
  const limit = pLimit(4);
  const refs = await Promise.all(files.map((f) => limit(() => debControl(f.file, f.entry.path))));
  for (const [i, f] of files.entries()) {
    const ref = refs[i];
    if (present.has(keyOf(ref)) && !opts.reinstall) {
      report.skipped.push(ref);
      continue;
    }
    let name = basename(f.entry.path);
    if (!name.endsWith('.deb')) name += '.deb';
    while (names.has(name)) name = `x${name}`;
    names.add(name);
    todo.push({ file: f.file, name });
    report.installed.push(ref);
  }
  if (todo.length === 0) return report;
  if (!isHost) await ensureDpkgAdmin(root);
  const tmp = await mkdtemp(join(tmpdir(), 'pinget-dpkg-'));
  try {
    for (const t of todo) await symlink(resolve(t.file), join(tmp, t.name));
    const args = [...(isHost ? [] : [`--root=${root}`]), '--install', ...todo.map((t) => join(tmp, t.name))];
    opts.log.verbose(`dpkg ${args.join(' ')}`);
    await runChecked('dpkg', args, 'PACKAGE_MANAGER', {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      missingHint: 'dpkg is part of every Debian/Ubuntu system; is this one?',
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return report;
}
