/**
 * The `dedupe-base` lockfile header: the sha256 of the bytes of each base lockfile that `hash generate
 * --dedupe` dropped entries against (`sha256:<hex>`, space-separated, in the order given). It ties an
 * app lockfile to the base image it was made for: `dockerfile generate --base-lockfile FILE` checks it.
 */
import { PingetError } from './errors.js';
import { sha256File } from './verify/sha256.js';

export const DEDUPE_BASE_HEADER = 'dedupe-base';

export async function lockfileDigest(file: string): Promise<string> {
  return `sha256:${await sha256File(file)}`;
}

/** The header value for these --dedupe files; stdin ('-') cannot be read twice and is left out. */
export async function dedupeBaseValue(files: string[]): Promise<string | undefined> {
  const digests: string[] = [];
  for (const f of files) if (f !== '-' && f !== '/dev/stdin') digests.push(await lockfileDigest(f));
  return digests.length ? digests.join(' ') : undefined;
}

/** Throws BAD_INPUT unless `lockfile`'s dedupe-base header names the digest of `baseLockfile`. */
export async function checkDedupeBase(lockfile: string, headers: Record<string, string>, baseLockfile: string): Promise<string> {
  const digest = await lockfileDigest(baseLockfile);
  const recorded = headers[DEDUPE_BASE_HEADER]?.split(/\s+/).filter(Boolean) ?? [];
  if (recorded.length === 0) {
    throw new PingetError('BAD_INPUT', `${lockfile}: no dedupe-base header; make it with \`pinget hash generate --dedupe ${baseLockfile}\` so it can be checked against that base`);
  }
  if (!recorded.includes(digest)) {
    throw new PingetError(
      'BAD_INPUT',
      `${lockfile} was deduped against ${recorded.join(', ')}, not against ${baseLockfile} (${digest}): the base image and the lockfile do not belong together`,
    );
  }
  return digest;
}
