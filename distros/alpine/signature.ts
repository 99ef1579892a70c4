/**
 * apk's signatures: RSA PKCS#1 v1.5 over the gzip member that follows the signature member, SHA-1 for
 * `.SIGN.RSA.<key>` and SHA-256 for `.SIGN.RSA256.<key>`; `<key>` is a PEM public key file name in
 * <root>/etc/apk/keys. (apk-tools 2, src/package.c apk_sign_ctx_*.)
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import type { ApkSignature } from './apk-file.js';
import { resolveInRoot } from '../../src/root-path.js';

export type ApkKeys = Map<string, KeyObject>;

/** Public keys from a keys directory, by file name; unreadable or non-key files are skipped. */
/** The keys in <root>/<rel> (etc/apk/keys), each file followed inside the root (they are often links to /usr/share/apk/keys). */
export async function loadApkKeys(root: string, rel = 'etc/apk/keys'): Promise<ApkKeys> {
  const keys: ApkKeys = new Map();
  let names: string[];
  try {
    names = await readdir(resolveInRoot(root, rel));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return keys;
    throw e;
  }
  for (const name of names.sort()) {
    try {
      keys.set(name, createPublicKey(await readFile(resolveInRoot(root, `${rel}/${name}`))));
    } catch {
      // not a PEM public key: apk ignores it too
    }
  }
  return keys;
}

/**
 * The name of the key that verifies `signed`, or a reason why none did.
 * Pure given the keys.
 */
export function checkSignatures(sigs: ApkSignature[], signed: Uint8Array, keys: ApkKeys): { key?: string; reason?: string } {
  if (sigs.length === 0) return { reason: 'it is not signed' };
  const tried: string[] = [];
  for (const s of sigs) {
    const key = keys.get(s.keyName);
    if (!key) {
      tried.push(`${s.keyName}: no such key`);
      continue;
    }
    const algo = s.scheme === 'RSA256' ? 'sha256' : 'sha1';
    if (verify(algo, signed, key, s.signature)) return { key: s.keyName };
    tried.push(`${s.keyName}: bad signature`);
  }
  return { reason: tried.join('; ') };
}
