/**
 * The CIDv1 of a file stored as ONE raw block (codec raw 0x55, multihash sha2-256 of the bytes): derivable
 * from the lockfile's sha256 alone. Its own small module so that template expansion (loaded by every command)
 * does not load the UnixFS and dag-pb code of cid.ts.
 */
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import * as Digest from 'multiformats/hashes/digest';
import { PingetError } from '../errors.js';
import { SHA256_HEX } from '../verify/sha256.js';

const SHA2_256 = 0x12;

/** CIDv1 (raw codec, sha2-256) of a file stored as one raw block: derived from its sha256 alone. */
export function rawLeafCid(sha256hex: string): string {
  if (!SHA256_HEX.test(sha256hex)) throw new PingetError('INTERNAL', `not a sha256: ${sha256hex}`);
  return CID.createV1(raw.code, Digest.create(SHA2_256, Buffer.from(sha256hex, 'hex'))).toString();
}
