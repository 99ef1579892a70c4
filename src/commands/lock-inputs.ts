/** `lock`'s inputs: a package list file, the --snapshot moment, and one output per architecture. */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PingetError } from '../errors.js';
import { snapshotTimestamp } from '../fetch/archives/types.js';
import type { GlobalArgs } from './context.js';

export interface LockArgs extends GlobalArgs {
  names?: string[];
  file?: string;
  image?: string;
  arch?: string;
  snapshot?: string;
  'install-recommends': boolean;
  'target-release'?: string;
  mirror?: string[];
  keyring?: string[];
  dedupe?: string[];
  output?: string;
  update?: string;
  sources: boolean;
}

const NAME_FILE_MAX = 1 << 20;

/** One name per line (several per line are split on white space); `#` starts a comment. */
export async function readNameFile(file: string): Promise<string[]> {
  const st = await stat(file).catch((e: NodeJS.ErrnoException) => {
    throw new PingetError('USAGE', `-f ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`, { cause: e });
  });
  if (!st.isFile()) throw new PingetError('USAGE', `-f ${file}: not a regular file`);
  if (st.size > NAME_FILE_MAX) throw new PingetError('USAGE', `-f ${file}: larger than ${NAME_FILE_MAX >> 10} KiB; not a package list`);
  const text = await readFile(file, 'utf8');
  return text.split('\n').flatMap((l) => l.replace(/#.*/, '').trim().split(/\s+/)).filter(Boolean);
}

/** --snapshot DATE, read as the lockfile's snapshot header is (src/fetch/archives/types.ts snapshotTimestamp). */
export function parseSnapshot(value: string): Date {
  const ts = snapshotTimestamp(value);
  if (!ts) throw new PingetError('USAGE', `--snapshot ${value}: expected YYYY-MM-DD or an ISO 8601 moment (UTC)`);
  return new Date(`${ts.slice(0, 4)}-${ts.slice(4, 6)}-${ts.slice(6, 8)}T${ts.slice(9, 11)}:${ts.slice(11, 13)}:${ts.slice(13, 15)}Z`);
}

/** The file for each architecture: `{arch}` replaced, or SHA256SUMS-<arch> in a directory; undefined: stdout. */
export async function lockOutputs(output: string | undefined, arches: string[]): Promise<(string | undefined)[]> {
  if (output === undefined) {
    if (arches.length > 1) throw new PingetError('USAGE', `${arches.length} architectures need -o with {arch} or a directory (one lockfile each)`);
    return [undefined];
  }
  if (output.includes('{arch}')) return arches.map((a) => output.replaceAll('{arch}', a));
  if ((await stat(output).catch(() => undefined))?.isDirectory()) return arches.map((a) => join(output, `SHA256SUMS-${a}`));
  if (arches.length > 1) throw new PingetError('USAGE', `-o ${output}: ${arches.length} architectures need {arch} in the name or a directory`);
  return [output];
}
