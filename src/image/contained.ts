/**
 * Paths inside an image root that cannot leave it. Layer entries name paths relative to the image's `/`;
 * a name that is absolute or has a `..` part is refused outright. A symlink met on the way is resolved
 * as the image would see it (an absolute target from the image root, `..` stopping at the root), the way
 * a chroot does, so `lib -> /usr/lib` works and `x -> /etc` lands in the root's etc, never the host's.
 */
import { join } from 'node:path';
import { PingetError } from '../errors.js';
import { resolveParts } from '../root-path.js';

/** The parts of a layer entry name (`./usr/bin/x/` -> usr, bin, x), or why it is refused. */
export function entryParts(name: string): string[] | string {
  if (name.includes('\0')) return 'a NUL byte in the name';
  if (name.startsWith('/')) return 'an absolute path';
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) return 'a ".." part';
  return parts;
}

export function checkedParts(name: string, what: string): string[] {
  const parts = entryParts(name);
  if (typeof parts === 'string') throw new PingetError('BAD_INPUT', `${what}: entry "${name}" has ${parts}; refusing the image`);
  return parts;
}

/**
 * The real path, inside root, of the parent directories of `parts` (symlinks among them resolved within
 * the root), joined with the last part, which is left as it is (never followed).
 */
export async function containedPath(root: string, parts: string[]): Promise<string> {
  if (parts.length === 0) return root;
  const dir = await resolveDir(root, parts.slice(0, -1));
  return join(root, ...dir, parts[parts.length - 1]);
}

/** The real path, inside root, of a directory named by parts (symlinks resolved within the root). */
export async function containedDir(root: string, parts: string[]): Promise<string> {
  return join(root, ...(await resolveDir(root, parts)));
}

/** Resolves directory parts within root, following symlinks the way a chroot would (src/root-path.ts). */
async function resolveDir(root: string, parts: string[]): Promise<string[]> {
  return resolveParts(root, parts, 'the image');
}
