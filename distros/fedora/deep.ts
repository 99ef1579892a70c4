/**
 * Content checks of an rpm root, with rpm itself:
 *  - `hash verify --deep`: `rpm -V` compares each installed file with the digests, sizes, modes and link
 *    targets the rpm database recorded. Its lines are `<9 attribute chars | "missing"> <type> <path>`
 *    (rpm(8) VERIFY OPTIONS; type `c` for %config). Config files are the administrator's; a change of
 *    the modification time alone (`T`) is not drift;
 *  - build drift: the installed header's SHA256HEADER against the pinned file's (`rpm -qp`), so a lockfile
 *    hash naming another build of the installed NEVRA does not pass. Only judged when the pinned file is
 *    in the cache.
 */
import { PingetError } from '../../src/errors.js';
import { run } from '../../src/exec.js';
import type { Logger } from '../../src/ui/log.js';
import type { BuildDrift, FileDrift, PinnedInstalled } from '../../src/distro/types.js';
import { findRpmDb, MISSING_RPM_HINT, queryRpmDb, withRootRpmDb } from './rpmdb.js';

export interface RpmVerifyLine {
  attrs: string;
  type: string;
  path: string;
}

/** Parses `rpm -V` output; other lines (rpm's own messages) are left out. */
export function parseRpmVerify(text: string): RpmVerifyLine[] {
  const out: RpmVerifyLine[] = [];
  for (const line of text.split('\n')) {
    const m = /^(missing|[.?SM5DLUGTP]{9})\s+([cdglr]?)\s*(\/.*)$/.exec(line);
    if (m) out.push({ attrs: m[1], type: m[2], path: m[3] });
  }
  return out;
}

const LETTERS: Record<string, string> = { S: 'size', M: 'mode', '5': 'digest', D: 'device', L: 'link target', U: 'owner', G: 'group', P: 'capabilities' };

/** Why a verify line is drift, or undefined when it is not (config files, mtime only). */
export function rpmDriftReason(v: RpmVerifyLine): string | undefined {
  if (v.type === 'c' || v.type === 'g') return undefined;
  if (v.attrs === 'missing') return 'missing (rpm -V)';
  const what = [...v.attrs].filter((c) => c in LETTERS).map((c) => LETTERS[c]);
  if (v.attrs.includes('?')) what.push('unreadable');
  return what.length ? `${what.join(', ')} differ${what.length === 1 ? 's' : ''} from the rpm database (rpm -V ${v.attrs})` : undefined;
}

const nevra = (p: PinnedInstalled) => `${p.ref.name}-${p.ref.version}.${p.ref.arch}`;

export async function verifyRpmFiles(root: string, pinned: PinnedInstalled[], opts: { log: Logger }): Promise<FileDrift[]> {
  const db = await findRpmDb(root);
  if (!db) throw new PingetError('BAD_INPUT', `${root}: no rpm database`);
  // the database read from a copy: rpm -V would leave sqlite's -shm/-wal in the root
  return withRootRpmDb(root, db, (args) => verifyWith(args, pinned, opts));
}

async function verifyWith(args: string[], pinned: PinnedInstalled[], opts: { log: Logger }): Promise<FileDrift[]> {
  const drift: FileDrift[] = [];
  for (const p of pinned) {
    const res = await run('rpm', [...args, '-V', nevra(p)], { missingHint: MISSING_RPM_HINT, env: { ...process.env, LC_ALL: 'C' } });
    const lines = parseRpmVerify(res.stdout);
    if (res.code !== 0 && lines.length === 0) throw new PingetError('PACKAGE_MANAGER', `rpm -V ${nevra(p)} failed (exit ${res.code}): ${res.stderr.trim()}`);
    for (const v of lines) {
      const reason = rpmDriftReason(v);
      if (reason) drift.push({ package: nevra(p), path: v.path, reason });
      else opts.log.verbose(`${nevra(p)}: ${v.path} ${v.attrs}${v.type ? ` (${v.type})` : ''}; not drift`);
    }
  }
  return drift.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

const HEADER_QF = '%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH} %{SHA256HEADER}\\n';

/** NEVRA (without epoch, as Koji paths spell it) -> `%{SHA256HEADER}`; rpm's failures for single files are left out. */
function parseHeaderDigests(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\S+) ([0-9a-f]{64})$/.exec(line);
    if (m) out.set(m[1], m[2]);
  }
  return out;
}

export async function rpmBuildDrift(root: string, pinned: PinnedInstalled[], log: Logger): Promise<BuildDrift[]> {
  const cached = pinned.filter((p) => p.file);
  if (cached.length === 0) return [];
  const installed = parseHeaderDigests(await queryRpmDb(root, HEADER_QF));
  const out: BuildDrift[] = [];
  for (let i = 0; i < cached.length; i += 200) {
    const part = cached.slice(i, i + 200);
    const res = await run('rpm', ['-qp', '--nosignature', '--queryformat', HEADER_QF, ...part.map((p) => p.file!)], { missingHint: MISSING_RPM_HINT, env: { ...process.env, LC_ALL: 'C' } });
    const files = parseHeaderDigests(res.stdout);
    for (const p of part) {
      const want = files.get(nevra(p));
      const have = installed.get(nevra(p));
      if (!want || !have) {
        log.verbose(`${nevra(p)}: no SHA256HEADER to compare (${want ? 'installed' : 'pinned file'}); build not checked`);
        continue;
      }
      if (want !== have) out.push({ ref: p.ref, path: p.entry.path, reason: `the installed header's SHA256HEADER is ${have}, the pinned file's is ${want}` });
    }
  }
  return out;
}
