/**
 * `hash verify --deep` for dpkg roots, in two steps:
 *  - `dpkg --verify` compares the installed files with dpkg's database (`info/<pkg>.md5sums`); its output is
 *    rpm's verify format, `<9 attribute chars | "missing"> <"c" for a conffile | " "> <path>` (dpkg(1));
 *  - when the pinned .deb is at hand, each regular file of its data member (read with `dpkg-deb --fsys-tarfile`)
 *    is compared by sha256 with the installed file. This is the only check that catches a lockfile line whose
 *    hash names another build of the installed version: dpkg's database records no hash of the .deb.
 * Conffiles are the administrator's to edit (dpkg keeps their edits on upgrade), so they are not drift.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PingetError } from '../../src/errors.js';
import { run } from '../../src/exec.js';
import type { Logger } from '../../src/ui/log.js';
import { comparePayload, tarFileHashes } from '../../src/verify/tar-hashes.js';
import type { FileDrift, PinnedInstalled } from '../../src/distro/types.js';
import { resolveInRoot } from '../../src/root-path.js';

export interface VerifyLine {
  /** dpkg's attribute string (`??5??????`) or `missing`. */
  attrs: string;
  conffile: boolean;
  path: string;
}

/** Parses `dpkg --verify` output (rpm format); lines it does not understand are ignored. */
export function parseDpkgVerify(text: string): VerifyLine[] {
  const out: VerifyLine[] = [];
  for (const line of text.split('\n')) {
    const m = /^(missing  |[?.A-Za-z0-9]{9}) ([c ]) (\/.*)$/.exec(line);
    if (m) out.push({ attrs: m[1].trim(), conffile: m[2] === 'c', path: m[3] });
  }
  return out;
}

function describe(v: VerifyLine): string {
  if (v.attrs === 'missing') return 'missing (dpkg --verify)';
  return v.attrs[2] === '5' ? "content differs from dpkg's md5sums (dpkg --verify)" : `differs from dpkg's database: ${v.attrs} (dpkg --verify)`;
}

const dpkgName = (p: PinnedInstalled) => `${p.ref.name}:${p.ref.arch}`;

async function infoList(root: string, p: PinnedInstalled, ext: string): Promise<string[]> {
  const dir = resolveInRoot(root, 'var/lib/dpkg/info');
  for (const base of [`${p.ref.name}:${p.ref.arch}`, p.ref.name]) {
    const text = await readFile(join(dir, `${base}.${ext}`), 'utf8').catch(() => undefined);
    if (text !== undefined) return text.split('\n').filter(Boolean);
  }
  return [];
}

/** sha256 of each regular file in a .deb's data member, by absolute path. */
export function debFileHashes(deb: string): Promise<Map<string, string>> {
  return tarFileHashes('dpkg-deb', ['--fsys-tarfile', deb], deb, 'Debian: dpkg');
}

async function compareWithDeb(root: string, p: PinnedInstalled, deb: string): Promise<FileDrift[]> {
  const conffiles = new Set(await infoList(root, p, 'conffiles'));
  return comparePayload(root, await debFileHashes(deb), conffiles, { label: dpkgName(p), pinnedPath: p.entry.path });
}

export async function verifyDebianFiles(root: string, pinned: PinnedInstalled[], opts: { log: Logger }): Promise<FileDrift[]> {
  const rootArgs = resolve(root) === '/' ? [] : [`--root=${root}`];
  const byPath = new Map<string, FileDrift>();
  for (const p of pinned) {
    const res = await run('dpkg', [...rootArgs, '--verify', dpkgName(p)], { missingHint: 'install dpkg', env: { ...process.env, LC_ALL: 'C' } });
    if (res.code !== 0) throw new PingetError('PACKAGE_MANAGER', `dpkg --verify ${dpkgName(p)} failed (exit ${res.code}): ${res.stderr.trim()}`);
    for (const v of parseDpkgVerify(res.stdout)) {
      if (v.conffile) opts.log.verbose(`${dpkgName(p)}: conffile ${v.path} was changed (${v.attrs}); not drift`);
      else byPath.set(v.path, { package: dpkgName(p), path: v.path, reason: describe(v) });
    }
    if (p.file) {
      for (const d of await compareWithDeb(root, p, p.file)) if (!byPath.has(d.path)) byPath.set(d.path, d);
    } else opts.log.verbose(`${p.entry.path}: not in the cache; checked against dpkg's md5sums only`);
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
