/**
 * apt's auto-installed marks (var/lib/apt/extended_states: deb822 paragraphs `Package`, `Architecture`,
 * `Auto-Installed: 1`), read for the lockfile's `manual` header and written back by install, so that
 * `apt-mark showauto` and `apt autoremove` in a pinget-built root agree with the apt-built one.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PingetError } from '../../src/errors.js';
import { writeFileAtomic } from '../../src/fs-atomic.js';
import { formatManual, markName, parseManual } from '../../src/manual-marks.js';
import type { PackageRef } from '../../src/distro/types.js';
import { parseParagraphs } from './deb822.js';

const STATES = 'var/lib/apt/extended_states';

interface Stanza {
  name: string;
  arch: string;
  fields: Map<string, string>;
}

async function readStates(root: string): Promise<{ text: string; stanzas: Stanza[] } | undefined> {
  const file = join(root, STATES);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const stanzas = parseParagraphs(text).map((p) => ({ name: p.fields.get('package') ?? '', arch: p.fields.get('architecture') ?? '', fields: p.fields }));
    return { text, stanzas };
  } catch (e) {
    throw new PingetError('BAD_INPUT', `${file}: ${(e as Error).message}`, { cause: e });
  }
}

/** apt records an `Architecture: all` package under the native architecture. */
const stateKey = (p: Pick<PackageRef, 'name' | 'arch'>, native: string | undefined) => `${p.name}:${p.arch === 'all' ? (native ?? 'all') : p.arch}`;

/**
 * The `manual` header for `packages`: undefined when the root has no extended_states or none of them is
 * marked auto (then every package is manual, which is also what install leaves without the header).
 */
export async function manualHeader(root: string, packages: PackageRef[], native: string | undefined): Promise<Record<string, string>> {
  const states = (await readStates(root))?.stanzas;
  if (!states) return {};
  const auto = new Set(states.filter((s) => s.fields.get('auto-installed') === '1').map((s) => `${s.name}:${s.arch}`));
  const isAuto = (p: PackageRef) => auto.has(stateKey(p, native)) || auto.has(`${p.name}:${p.arch}`);
  if (!packages.some(isAuto)) return {};
  return { manual: formatManual(packages.filter((p) => !isAuto(p)).map((p) => markName(p, native))) };
}

/** Sets the marks of `packages` in <root>/var/lib/apt/extended_states from the lockfile's `manual` header. */
/** `nativeArch` is asked only when the lockfile has a manual header (it reads the root's database). */
export async function applyManualMarks(root: string, packages: PackageRef[], headers: Record<string, string>, nativeArch: () => Promise<string | undefined>): Promise<void> {
  const manual = parseManual(headers);
  if (!manual || packages.length === 0) return;
  const native = await nativeArch();
  const old = await readStates(root);
  const states = old?.stanzas ?? [];
  const byKey = new Map(states.map((s) => [`${s.name}:${s.arch}`, s]));
  const added: Stanza[] = [];
  for (const p of packages) {
    const key = stateKey(p, native);
    const isManual = manual.has(markName(p, native)) || manual.has(p.name);
    let s = byKey.get(key);
    if (isManual) {
      s?.fields.delete('auto-installed');
      continue;
    }
    if (!s) {
      s = { name: p.name, arch: key.slice(p.name.length + 1), fields: new Map([['package', p.name], ['architecture', key.slice(p.name.length + 1)]]) };
      byKey.set(key, s);
      added.push(s);
    }
    s.fields.set('auto-installed', '1');
  }
  added.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.arch < b.arch ? -1 : 1));
  const keep = [...states, ...added].filter((s) => [...s.fields.keys()].some((k) => k !== 'package' && k !== 'architecture'));
  const file = join(root, STATES);
  if (keep.length === 0 && states.length === 0) return;
  const cap = (k: string) => k.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());
  const text = keep.map((s) => [...s.fields].map(([k, v]) => `${cap(k)}: ${v}\n`).join('') + '\n').join('');
  if (text === old?.text) return; // unchanged: leave the file (and its mtime) alone
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, text);
}
