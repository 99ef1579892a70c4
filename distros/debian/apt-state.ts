/**
 * `lock` keeps apt's state between runs, in pinget's cache: one directory per set of verified lists and
 * architecture, holding the lists as apt names them and apt's own caches (srcpkgcache.bin, pkgcache.bin), which apt
 * reuses while the lists' sizes and times stay put. A warm run then skips apt's parse of 50 MB of indexes.
 */
import { resolverStateDir } from '../../src/resolver-state.js';
import type { ListEntry } from './lock-indexes.js';

export function aptStateDir(stateRoot: string, arch: string, lists: ListEntry[]): Promise<string> {
  return resolverStateDir(stateRoot, 'apt', [arch, ...lists.map((l) => `${l.name} ${l.sha256}`).sort()]);
}
