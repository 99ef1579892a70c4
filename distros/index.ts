/** Detection from <root>/etc/os-release, and the registry of adapters. */
import { PingetError } from '../src/errors.js';
import type { DistroAdapter, DistroInfo } from './types.js';
import { fedoraAdapter } from './fedora/index.js';
import { archAdapter } from './arch/index.js';
import { alpineAdapter } from './alpine/index.js';

// One line per adapter; order matters only when two could claim the same os-release.
export const ADAPTERS: DistroAdapter[] = [fedoraAdapter, archAdapter, alpineAdapter];

export function adapterById(id: string): DistroAdapter | undefined {
  return ADAPTERS.find((a) => a.id === id);
}

/**
 * Finds the adapter for a root. With `forced` (--distro), that adapter is used even when
 * os-release says otherwise; its detect() still fills version and codename when it can.
 */
export async function detectDistro(root: string, forced?: string): Promise<{ adapter: DistroAdapter; info: DistroInfo }> {
  if (forced) {
    const adapter = adapterById(forced);
    if (!adapter) {
      throw new PingetError('USAGE', `unknown distro "${forced}" for --distro; known: ${ADAPTERS.map((a) => a.id).join(', ')}`);
    }
    const info = (await adapter.detect(root)) ?? { id: forced, osId: forced, idLike: [] };
    return { adapter, info: { ...info, id: forced } };
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
