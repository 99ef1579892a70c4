/**
 * Re-signing tolerance. Alpine re-signs packages (a new signature member), which changes the whole-file
 * sha256 but not the control member (whose SHA-1 is the pinned `C:` identity) nor the data member (whose
 * sha256 is `.PKGINFO`'s `datahash`, inside the control member). A file whose control member has the
 * pinned identity and whose data member has that datahash is the pinned package, whatever its signature.
 */
import { readFile } from 'node:fs/promises';
import { PingetError, reasonOf } from '../../src/errors.js';
import { parseApk, sha256Hex, type ApkParts } from './apk-file.js';
import { inspectApkPath } from './paths.js';
import { pkgInfoValue } from './pkginfo.js';

export interface ResignedAcceptance {
  /** The served file's whole-file sha256 (differs from the lockfile's). */
  sha256: string;
  identity: string;
  /** Key names of the new signature, for the message. */
  signers: string[];
  /** One line for the user: what was accepted and why. */
  note: string;
}

/**
 * The parts of the apk at `bytesFile` once they are proven to be the package `identity` names: its control
 * member has that identity, its data member the control's datahash, its .PKGINFO the name and version of
 * lockfile `path`. Otherwise throws INTEGRITY: `what` it is not, and which part differs from what `whose` names.
 */
export async function checkIdentity(path: string, bytesFile: string, identity: string, what: string, whose: string): Promise<{ bytes: Buffer; parts: ApkParts }> {
  const bytes = await readFile(bytesFile);
  const reject = (why: string): never => {
    throw new PingetError('INTEGRITY', `${path}: ${what}: ${why}`);
  };
  let parts: ApkParts;
  try {
    parts = await parseApk(bytes);
  } catch (e) {
    return reject(`not an apk package (${reasonOf(e)})`);
  }
  if (parts.identity !== identity) reject(`its control segment is ${parts.identity}, ${whose} ${identity}`);
  const datahash = pkgInfoValue(parts.pkginfo, 'datahash');
  if (!datahash) reject('its .PKGINFO has no datahash, so its data segment cannot be checked');
  const dataSha = sha256Hex(bytes.subarray(parts.dataStart));
  if (dataSha !== datahash) reject(`its data segment has sha256 ${dataSha}, its .PKGINFO says ${datahash}`);
  const ref = inspectApkPath(path);
  const name = pkgInfoValue(parts.pkginfo, 'pkgname');
  const version = pkgInfoValue(parts.pkginfo, 'pkgver');
  if (ref && (ref.name !== name || ref.version !== version)) reject(`its .PKGINFO names ${name}-${version}`);
  return { bytes, parts };
}

/**
 * Accepts `bytesFile` for lockfile `path` when its control member has `pinnedIdentity` and its data
 * member matches the control's datahash; throws INTEGRITY saying which part differs otherwise.
 */
export async function acceptResigned(path: string, bytesFile: string, pinnedIdentity: string): Promise<ResignedAcceptance> {
  const { bytes, parts } = await checkIdentity(path, bytesFile, pinnedIdentity, 'the served file is not a re-signed copy of the pinned package', 'the lockfile pins');
  const sha256 = sha256Hex(bytes);
  const signers = parts.signatures.map((s) => s.keyName);
  return {
    sha256,
    identity: parts.identity,
    signers,
    note: `${path}: accepted a re-signed file (sha256 ${sha256}${signers.length ? `, signed by ${signers.join(', ')}` : ', unsigned'}): its control and data segments are the pinned ones (${pinnedIdentity})`,
  };
}
