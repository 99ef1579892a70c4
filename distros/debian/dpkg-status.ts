/**
 * dpkg's database of installed packages, <root>/var/lib/dpkg/status (dpkg-query(1) reads the same), or, in
 * distroless images that have no dpkg, one file per package in <root>/var/lib/dpkg/status.d/.
 * The parser is pure; readStatus checks that what it read is whole (see there).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PingetError } from '../../src/errors.js';
import type { PackageRef } from '../../src/distro/types.js';
import { resolveInRoot } from '../../src/root-path.js';
import { decodeDatabase, errnoOf } from '../../src/text-decode.js';
import { parseParagraphs, type Paragraph } from './deb822.js';

export interface InstalledDeb extends PackageRef {
  /** Source package name (Source: without its "(version)" part), defaulting to the package name. */
  source: string;
  /** The source version when Source: gives one (binNMUs), else the package version. */
  sourceVersion: string;
  /** The archive area from Section: (`contrib/net` -> contrib), main when none is given. */
  component: string;
  multiArch?: string;
}

// dpkg's vocabulary for the three words of Status: (dpkg-query(1), "Package status").
const WANT = new Set(['unknown', 'install', 'hold', 'deinstall', 'purge']);
const EFLAG = new Set(['ok', 'reinstreq']);
const STATE = new Set(['not-installed', 'config-files', 'half-installed', 'unpacked', 'half-configured', 'triggers-awaited', 'triggers-pending', 'installed']);
/** Installed as dpkg-query counts them: configured, and configured with triggers still to run or awaited. */
const INSTALLED = new Set(['installed', 'triggers-pending', 'triggers-awaited']);
// deb-version(7) and deb-control(5) syntax; a flipped byte in these fields shows here.
const NAME_RE = /^[a-z0-9][a-z0-9+.-]*$/;
const VERSION_RE = /^(?:[0-9]+:)?[0-9A-Za-z.+~-]+$/;
const ARCH_RE = /^[a-z0-9][a-z0-9-]*$/;

function bad(file: string, line: number, what: string): Error {
  return new Error(`${file}:${line}: ${what}`);
}

/**
 * Installed packages: those whose Status is `<want> ok installed` (or triggers-pending / triggers-awaited, which
 * are installed too). `hold ok installed` (apt-mark hold) and `deinstall ok installed` (marked for removal, still on
 * disk) are installed, as dpkg-query counts them; half-installed, config-files, unpacked etc. are not.
 * `implicitStatus`: distroless status.d records carry no Status: field and are all installed.
 * Every record is checked (Status vocabulary, name, version and architecture syntax), installed or not.
 */
export function parseDpkgStatus(text: string, file = 'var/lib/dpkg/status', opts: { implicitStatus?: boolean } = {}): InstalledDeb[] {
  return parseRecords(text, file, opts).flatMap((r) => (r.installed ? [r.installed] : []));
}

interface DebRecord {
  /** `name:arch` as dpkg keys its records (an update record replaces the status record of the same key). */
  key: string;
  installed?: InstalledDeb;
}

function parseRecords(text: string, file: string, opts: { implicitStatus?: boolean }): DebRecord[] {
  let paragraphs: Paragraph[];
  try {
    paragraphs = parseParagraphs(text);
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  const out: DebRecord[] = [];
  for (const p of paragraphs) {
    const f = p.fields;
    const name = f.get('package');
    if (!name || !NAME_RE.test(name)) throw bad(file, p.line, name ? `bad package name ${JSON.stringify(name.slice(0, 60))}` : 'record without Package:');
    const statusText = f.get('status') ?? (opts.implicitStatus ? 'install ok installed' : undefined);
    if (statusText === undefined) throw bad(file, p.line, `${name}: record without Status:`);
    const status = statusText.split(/\s+/);
    if (status.length !== 3 || !WANT.has(status[0]) || !EFLAG.has(status[1]) || !STATE.has(status[2])) {
      throw bad(file, p.line, `${name}: bad Status: ${JSON.stringify(statusText.slice(0, 60))}`);
    }
    const version = f.get('version');
    const arch = f.get('architecture');
    if (version !== undefined && !VERSION_RE.test(version)) throw bad(file, p.line, `${name}: bad Version: ${JSON.stringify(version.slice(0, 60))}`);
    if (arch !== undefined && !ARCH_RE.test(arch)) throw bad(file, p.line, `${name}: bad Architecture: ${JSON.stringify(arch.slice(0, 60))}`);
    const key = `${name}:${arch ?? ''}`;
    if (status[1] !== 'ok' || !INSTALLED.has(status[2])) {
      out.push({ key });
      continue;
    }
    if (!version || !arch) {
      throw bad(file, p.line, `installed package record without ${!version ? 'Version' : 'Architecture'}`);
    }
    const src = /^(\S+)(?:\s*\(([^)]+)\))?/.exec(f.get('source') ?? '');
    const section = f.get('section') ?? '';
    out.push({
      key,
      installed: {
        name,
        version,
        arch,
        source: src?.[1] ?? name,
        sourceVersion: src?.[2]?.trim() ?? version,
        component: section.includes('/') ? section.slice(0, section.indexOf('/')) : 'main',
        multiArch: f.get('multi-arch'),
      },
    });
  }
  return out;
}

/** `name:arch` for Multi-Arch: same packages' other architectures, as dpkg-query prints them. */
export function displayName(p: PackageRef): string {
  return `${p.name}:${p.arch}=${p.version}`;
}

/**
 * A database text as dpkg writes it ends every record with a blank line; a file that ends inside a record was cut
 * (a truncated copy, a full disk). The line named is where the cut record starts.
 */
function checkWhole(text: string, file: string): void {
  if (text.trim() === '' || /\r?\n\r?\n$/.test(text)) return;
  const lines = text.split('\n');
  let start = lines.length - 1;
  while (start > 0 && lines[start - 1].trim() !== '') start--;
  throw bad(file, start + 1, 'the file ends inside a package record (truncated?); dpkg ends every record with a blank line');
}

// Files dpkg keeps beside a package in status.d (distroless) or info/ that are not control records.
const SIDE_FILE = /\.(md5sums|preinst|postinst|prerm|postrm|list|conffiles|triggers|shlibs|symbols|templates|config)$/;

async function readText(file: string, what: string, root: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new PingetError('BAD_INPUT', `${file}: cannot read ${what} (${errnoOf(e)}); is ${root} a Debian/Ubuntu root?`, { cause: e });
  }
  return decodeDatabase(bytes, file);
}

/** Package names (without `:arch`) that have a file list in info/: dpkg keeps one for every package it unpacked. */
async function listedInInfo(root: string): Promise<string[]> {
  const names = await readdir(resolveInRoot(root, 'var/lib/dpkg/info')).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith('.list')).map((n) => n.slice(0, -5).replace(/:[^:]*$/, ''));
}

/**
 * The installed packages of a root. Refuses (BAD_INPUT naming file and line) what is not whole: bytes that are
 * not UTF-8, a file that ends inside a record, a record that does not parse, and a status file that lacks
 * packages dpkg has file lists for (info/<name>.list), which is what a status cut at a record boundary looks like.
 */
export async function readStatus(root: string): Promise<InstalledDeb[]> {
  const file = resolveInRoot(root, 'var/lib/dpkg/status');
  const dir = resolveInRoot(root, 'var/lib/dpkg/status.d');
  const entries = await readdir(dir).catch(() => undefined);
  try {
    if (entries && !(await readFile(file).then(() => true, () => false))) {
      // distroless: no dpkg, one record file per package
      const out: InstalledDeb[] = [];
      for (const n of entries.filter((e) => !SIDE_FILE.test(e)).sort()) {
        const text = await readText(join(dir, n), 'a status.d record', root);
        // one record per file, ended by a newline
        if (text !== '' && !text.endsWith('\n')) throw bad(join(dir, n), text.split('\n').length, 'the file ends inside a line (truncated?)');
        out.push(...parseDpkgStatus(text, join(dir, n), { implicitStatus: true }));
      }
      return out;
    }
    const text = await readText(file, "dpkg's database", root);
    checkWhole(text, file);
    const records = new Map(parseRecords(text, file, {}).map((r) => [r.key, r]));
    // dpkg's journal: records written since status was last rewritten (an interrupted dpkg), which dpkg-query applies
    const updates = resolveInRoot(root, 'var/lib/dpkg/updates');
    for (const n of (await readdir(updates).catch(() => [] as string[])).filter((u) => /^\d+$/.test(u)).sort()) {
      const u = join(updates, n);
      const utext = await readText(u, "a dpkg journal entry", root);
      checkWhole(utext, u);
      for (const r of parseRecords(utext, u, {})) records.set(r.key, r);
    }
    const known = new Set([...records.keys()].map((k) => k.slice(0, k.indexOf(':'))));
    const lost = (await listedInInfo(root)).filter((n) => !known.has(n));
    if (lost.length > 0) {
      throw new Error(`${file}: no record for ${lost.slice(0, 3).join(', ')}${lost.length > 3 ? ` and ${lost.length - 3} more` : ''}, which dpkg has file lists for in var/lib/dpkg/info (a truncated or replaced status file?)`);
    }
    return [...records.values()].flatMap((r) => (r.installed ? [r.installed] : []));
  } catch (e) {
    throw e instanceof PingetError ? e : new PingetError('BAD_INPUT', (e as Error).message, { cause: e });
  }
}
