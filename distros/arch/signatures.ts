/**
 * Detached OpenPGP signatures of packages and sync databases, checked with openpgp against the root's
 * pacman keyring (`<GPGDir>/pubring.gpg`, a binary GnuPG keyring that pacman-key maintains).
 * A key in that keyring counts as trusted: pacman-key --populate only adds keys it lsigns or revokes.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PingetError } from '../../src/errors.js';
import { readKeyring, verifyDetached, type PublicKey } from '../../src/verify/openpgp.js';

export type Keyring = PublicKey[];

/** The keys of <gpgDir>/pubring.gpg; an empty list when there is no keyring. */
export async function loadPacmanKeyring(gpgDir: string): Promise<Keyring> {
  const file = join(gpgDir, 'pubring.gpg');
  const data = await readFile(file).catch(() => undefined);
  if (!data || data.length === 0) return [];
  try {
    return await readKeyring(new Uint8Array(data));
  } catch (e) {
    throw new PingetError('BAD_INPUT', `${file}: cannot read the pacman keyring (${(e as Error).message}); run pacman-key --init and --populate`, {
      cause: e,
    });
  }
}

/** Throws INTEGRITY unless `sig` (binary or ASCII-armored) is a good signature of `data` by a key in `keys`. */
export async function verifyDetachedSig(data: Uint8Array, sig: Uint8Array, keys: Keyring, what: string): Promise<void> {
  await verifyDetached(data, sig, keys, what);
}
