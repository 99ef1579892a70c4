/** Detection from <root>/etc/os-release, and the registry of adapters. */
import { PingetError } from '../src/errors.js';
import type { DistroAdapter, DistroInfo } from './types.js';
import { fedoraAdapter } from './fedora/index.js';
import { archAdapter } from './arch/index.js';
import { alpineAdapter } from './alpine/index.js';
import { debianAdapter } from './debian/index.js';

// One line per adapter; order matters only when two could claim the same os-release.
export const ADAPTERS: DistroAdapter[] = [fedoraAdapter, archAdapter, alpineAdapter, debianAdapter];

/** Distros served by another's adapter, for --distro and lockfile headers. */
const ALIASES: Record<string, string> = { ubuntu: 'debian', rhel: 'fedora', centos: 'fedora', rocky: 'fedora', almalinux: 'fedora', archlinux: 'arch' };

export function adapterById(id: string): DistroAdapter | undefined {
  const wanted = ALIASES[id] ?? id;
  return ADAPTERS.find((a) => a.id === wanted);
}

/**
 * Finds the adapter for a root. With `forced` (--distro), that adapter is used even when
 * os-release says otherwise; its detect() still fills version and codename when it can.
 */
export async function detectDistro(root: string, forced?: string): Promise<{ adapter: DistroAdapter; info: DistroInfo }> {
  if (forced) {
    const adapter = adapterById(forced);
    if (!adapter) {
      throw new PingetError('USAGE', `unknown distro "${forced}" for --distro; known: ${[...ADAPTERS.map((a) => a.id), ...Object.keys(ALIASES)].join(', ')}`);
    }
    const info = (await adapter.detect(root)) ?? { id: adapter.id, osId: forced, idLike: [] };
    return { adapter, info };
  }
  for (const adapter of ADAPTERS) {
    const info = await adapter.detect(root);
    if (info) return { adapter, info };
  }
  throw new PingetError(
    'BAD_INPUT',
    `${root.replace(/\/$/, '')}/etc/os-release: no supported distro found (supported: ${ADAPTERS.map((a) => a.id).join(', ')}); pass --distro ID to choose one`,
  );
}

/** The adapter whose inspect() understands a lockfile path, for commands that have no root (diff). */
export function adapterForPath(path: string, preferred?: string): DistroAdapter | undefined {
  const first = preferred ? adapterById(preferred) : undefined;
  if (first?.inspect(path)) return first;
  return ADAPTERS.find((a) => a.inspect(path));
}
