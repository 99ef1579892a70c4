/** dpkg's database of installed packages, <root>/var/lib/dpkg/status (dpkg-query(1) reads the same). Pure. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PingetError } from '../../src/errors.js';
import type { PackageRef } from '../../src/distro/types.js';
import { parseParagraphs } from './deb822.js';

export interface InstalledDeb extends PackageRef {
  /** Source package name (Source: without its "(version)" part), defaulting to the package name. */
  source: string;
  /** The source version when Source: gives one (binNMUs), else the package version. */
  sourceVersion: string;
  /** The archive area from Section: (`contrib/net` -> contrib), main when none is given. */
  component: string;
  multiArch?: string;
}

/**
 * Installed packages: those whose Status is `<want> ok installed`. `install ok installed` is the usual case;
 * `hold ok installed` (apt-mark hold) and `deinstall ok installed` (marked for removal, still on disk) are
 * installed too, as dpkg-query counts them. Half-installed, config-files, unpacked etc. are not.
 */
export function parseDpkgStatus(text: string, file = 'var/lib/dpkg/status'): InstalledDeb[] {
  let paragraphs;
  try {
    paragraphs = parseParagraphs(text);
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  const out: InstalledDeb[] = [];
  for (const p of paragraphs) {
    const f = p.fields;
    const status = (f.get('status') ?? '').split(/\s+/);
    if (status.length !== 3 || status[1] !== 'ok' || status[2] !== 'installed') continue;
    const name = f.get('package');
    const version = f.get('version');
    const arch = f.get('architecture');
    if (!name || !version || !arch) {
      throw new Error(`${file}:${p.line}: installed package record without ${!name ? 'Package' : !version ? 'Version' : 'Architecture'}`);
    }
    const src = /^(\S+)(?:\s*\(([^)]+)\))?/.exec(f.get('source') ?? '');
    const section = f.get('section') ?? '';
    out.push({
      name,
      version,
      arch,
      source: src?.[1] ?? name,
      sourceVersion: src?.[2]?.trim() ?? version,
      component: section.includes('/') ? section.slice(0, section.indexOf('/')) : 'main',
      multiArch: f.get('multi-arch'),
    });
  }
  return out;
}

/** `name:arch` for Multi-Arch: same packages' other architectures, as dpkg-query prints them. */
export function displayName(p: PackageRef): string {
  return `${p.name}:${p.arch}=${p.version}`;
}

export async function readStatus(root: string): Promise<InstalledDeb[]> {
  const file = join(root, 'var/lib/dpkg/status');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new PingetError('BAD_INPUT', `${file}: cannot read dpkg's database (${(e as NodeJS.ErrnoException).code ?? e}); is ${root} a Debian/Ubuntu root?`, { cause: e });
  }
  try {
    return parseDpkgStatus(text, file);
  } catch (e) {
    throw new PingetError('BAD_INPUT', (e as Error).message, { cause: e });
  }
}
