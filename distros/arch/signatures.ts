/**
 * Detached OpenPGP signatures of packages and sync databases, checked with openpgp against the root's
 * pacman keyring (`<GPGDir>/pubring.gpg`, a binary GnuPG keyring that pacman-key maintains).
 * A key in that keyring counts as trusted: pacman-key --populate only adds keys it lsigns or revokes.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { PingetError } from '../../src/errors.js';

export type Keyring = openpgp.Key[];

/** The keys of <gpgDir>/pubring.gpg; an empty list when there is no keyring. */
export async function loadPacmanKeyring(gpgDir: string): Promise<Keyring> {
  const file = join(gpgDir, 'pubring.gpg');
  const data = await readFile(file).catch(() => undefined);
  if (!data || data.length === 0) return [];
  try {
    return await openpgp.readKeys({ binaryKeys: new Uint8Array(data) });
  } catch (e) {
    throw new PingetError('BAD_INPUT', `${file}: cannot read the pacman keyring (${(e as Error).message}); run pacman-key --init and --populate`, {
      cause: e,
    });
  }
}

/** Throws INTEGRITY unless `sig` (binary or ASCII-armored) is a good signature of `data` by a key in `keys`. */
export async function verifyDetachedSig(data: Uint8Array, sig: Uint8Array, keys: Keyring, what: string): Promise<void> {
  let signature: openpgp.Signature;
  try {
    const text = Buffer.from(sig.subarray(0, 40)).toString('latin1');
    signature = text.includes('-----BEGIN PGP SIGNATURE-----')
      ? await openpgp.readSignature({ armoredSignature: Buffer.from(sig).toString('utf8') })
      : await openpgp.readSignature({ binarySignature: sig });
  } catch (e) {
    throw new PingetError('INTEGRITY', `${what}: the signature cannot be read (${(e as Error).message})`, { cause: e });
  }
  const message = await openpgp.createMessage({ binary: data });
  const result = await openpgp.verify({ message, signature, verificationKeys: keys, format: 'binary' });
  const reasons: string[] = [];
  for (const s of result.signatures) {
    try {
      await s.verified;
      return;
    } catch (e) {
      reasons.push(`key ${s.keyID.toHex()}: ${(e as Error).message}`);
    }
  }
  throw new PingetError(
    'INTEGRITY',
    `${what}: bad signature (${reasons.join('; ') || 'no signature packets'}); the file or the keyring was changed, or pass --allow-unsigned to skip the check`,
  );
}
