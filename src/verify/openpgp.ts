/**
 * OpenPGP signature checks of repository indexes (apt's InRelease / Release.gpg, and the like), with openpgp.js.
 *
 * Policy, as apt's gpgv method: a signature is accepted when at least one signature packet was made by one of
 * the given keys and verifies; a signature by a known key that does not verify fails the whole check; signature
 * packets by unknown keys are ignored as long as a known key also signed.
 *
 * Keys are checked as of the signature's creation time, not the wall clock: pinget reads indexes that apt
 * already accepted, possibly years ago, and an archive key that expired since then must not make an old image
 * unpinnable (the result must not depend on when it runs).
 */
import { readFile } from 'node:fs/promises';
import type * as OpenPGP from 'openpgp';
import type { PublicKey, Signature } from 'openpgp';
import { PingetError, reasonOf } from '../errors.js';

export type { PublicKey } from 'openpgp';

// openpgp.js takes ~70 ms to load: only the commands that check signatures pay for it, on first use.
let loaded: Promise<typeof OpenPGP> | undefined;
export function openpgpModule(): Promise<typeof OpenPGP> {
  return (loaded ??= import('openpgp'));
}

const ARMOR_START = '-----BEGIN PGP';
const KEYBOX_MAGIC = 'KBXf';

/** Reads keys from one keyring's bytes: armored (.asc) or binary (concatenated packets, as /usr/share/keyrings/*.gpg). */
export async function readKeyring(data: Uint8Array): Promise<PublicKey[]> {
  const head = Buffer.from(data.subarray(0, 64)).toString('latin1');
  const openpgp = await openpgpModule();
  let keys: OpenPGP.Key[];
  if (head.trimStart().startsWith(ARMOR_START)) {
    keys = await openpgp.readKeys({ armoredKeys: Buffer.from(data).toString('utf8') });
  } else {
    // A GnuPG keybox (gpg 2.1's pubring.kbx) is not a keyring apt can use either.
    if (head.slice(8, 12) === KEYBOX_MAGIC) throw new Error('a GnuPG keybox, not an OpenPGP keyring');
    keys = await openpgp.readKeys({ binaryKeys: data });
  }
  return keys.map((k) => (k.isPrivate() ? k.toPublic() : (k as PublicKey)));
}

/**
 * Loads every readable key of the given files. Files that are missing, empty or not keyrings are skipped
 * (reported through `onSkip`), as apt skips them.
 */
export async function loadKeys(files: string[], onSkip?: (file: string, reason: string) => void): Promise<PublicKey[]> {
  const out: PublicKey[] = [];
  for (const file of files) {
    try {
      const data = await readFile(file);
      if (data.length === 0) {
        onSkip?.(file, 'empty file');
        continue;
      }
      out.push(...(await readKeyring(data)));
    } catch (e) {
      onSkip?.(file, reasonOf(e));
    }
  }
  return out;
}

/** The keys of `--keyring FILE` options: every file must hold keys (a typo is exit 2, not a check against nothing). */
export async function loadKeyringOption(files: string[]): Promise<PublicKey[]> {
  const skipped: string[] = [];
  const found = await loadKeys(files, (file, why) => skipped.push(`${file}: ${why}`));
  if (skipped.length) throw new PingetError('USAGE', `--keyring ${skipped[0]}`);
  if (found.length === 0) throw new PingetError('USAGE', `--keyring ${files.join(', ')}: no OpenPGP public key in it`);
  return found;
}

/** Reads an armored key block given inline (deb822 `Signed-By:` may hold one). */
export async function keysFromArmored(text: string): Promise<PublicKey[]> {
  return readKeyring(Buffer.from(text, 'utf8'));
}

function signingDate(signature: Signature): Date | undefined {
  let newest: Date | undefined;
  for (const packet of signature.packets) {
    const created = packet.created;
    if (created && (!newest || created > newest)) newest = created;
  }
  return newest;
}

function knows(keys: PublicKey[], keyID: OpenPGP.KeyID): boolean {
  return keys.some((k) => k.getKeys(keyID).length > 0);
}

async function judge(
  results: { keyID: OpenPGP.KeyID; verified: Promise<true> }[],
  keys: PublicKey[],
  what: string,
): Promise<void> {
  if (results.length === 0) throw new PingetError('INTEGRITY', `${what}: no OpenPGP signature found`);
  let good = 0;
  const unknown: string[] = [];
  for (const r of results) {
    const id = r.keyID.toHex();
    if (!knows(keys, r.keyID)) {
      unknown.push(id);
      r.verified.catch(() => {});
      continue;
    }
    try {
      await r.verified;
      good++;
    } catch (e) {
      throw new PingetError('INTEGRITY', `${what}: BAD signature by key ${id.toUpperCase()} (${reasonOf(e)}); the file was altered or is corrupt`, {
        cause: e,
      });
    }
  }
  if (good === 0) {
    throw new PingetError(
      'INTEGRITY',
      `${what}: signed by unknown key ${unknown.map((u) => u.toUpperCase()).join(', ')} (${keys.length} trusted key(s) loaded); install the repository's keyring or fix Signed-By`,
    );
  }
}

/** Verifies a detached signature (binary or armored) over `data`; throws PingetError INTEGRITY naming `what`. */
export async function verifyDetached(data: Uint8Array, signature: Uint8Array | string, keys: PublicKey[], what: string): Promise<void> {
  const openpgp = await openpgpModule();
  let sig: Signature;
  try {
    const armored = typeof signature === 'string' ? signature : Buffer.from(signature.subarray(0, 64)).toString('latin1').trimStart().startsWith(ARMOR_START) ? Buffer.from(signature).toString('utf8') : undefined;
    sig = armored !== undefined
      ? await openpgp.readSignature({ armoredSignature: armored })
      : await openpgp.readSignature({ binarySignature: signature as Uint8Array });
  } catch (e) {
    throw new PingetError('INTEGRITY', `${what}: unreadable OpenPGP signature (${reasonOf(e)})`, { cause: e });
  }
  const message = await openpgp.createMessage({ binary: data });
  let result;
  try {
    result = await openpgp.verify({ message, signature: sig, verificationKeys: keys, format: 'binary', date: signingDate(sig) });
  } catch (e) {
    throw new PingetError('INTEGRITY', `${what}: signature check failed (${reasonOf(e)})`, { cause: e });
  }
  await judge(result.signatures, keys, what);
}

/**
 * Verifies a cleartext-signed document (apt's InRelease) and returns the signed text, dash-unescaped, with LF
 * line ends. Throws PingetError INTEGRITY naming `what` on a bad, missing or unknown signature.
 */
export async function verifyCleartext(text: string, keys: PublicKey[], what: string): Promise<string> {
  const openpgp = await openpgpModule();
  let message: OpenPGP.CleartextMessage;
  try {
    message = await openpgp.readCleartextMessage({ cleartextMessage: text });
  } catch (e) {
    throw new PingetError('INTEGRITY', `${what}: not an OpenPGP cleartext-signed file (${reasonOf(e)})`, { cause: e });
  }
  let result;
  try {
    result = await openpgp.verify({ message, verificationKeys: keys, date: signingDate((message as unknown as { signature: Signature }).signature) });
  } catch (e) {
    throw new PingetError('INTEGRITY', `${what}: signature check failed (${reasonOf(e)})`, { cause: e });
  }
  await judge(result.signatures, keys, what);
  return message.getText();
}
