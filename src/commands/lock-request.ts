/**
 * The `lock` lockfile header: what the lockfile was resolved from, as the command line said it
 * (`hello curl --no-install-recommends -t bookworm-backports --distro debian:bookworm`), so that
 * `lock --update` asks for the same again. Names are package names (no spaces), options are lock's own.
 */
import { PingetError } from '../errors.js';
import { parseManual } from '../manual-marks.js';

export const LOCK_HEADER = 'lock';

export interface LockRequest {
  names: string[];
  recommends: boolean;
  targetRelease?: string;
  /** `--sources`: the source packages pinned too. */
  sources?: boolean;
  /** An empty base: the distro and release. */
  empty?: { osId: string; release: string };
}

export function lockRequest(r: LockRequest): string {
  const words = [...r.names];
  if (!r.recommends) words.push('--no-install-recommends');
  if (r.targetRelease) words.push('-t', r.targetRelease);
  if (r.sources) words.push('--sources');
  if (r.empty) words.push('--distro', `${r.empty.osId}:${r.empty.release}`);
  return words.join(' ');
}

/** The request a lockfile records; a lockfile from `hash generate` has none, and its manual names are taken. */
export function parseLockRequest(headers: Record<string, string>, file: string): LockRequest {
  const value = headers[LOCK_HEADER];
  if (value === undefined) {
    const manual = parseManual(headers);
    if (!manual?.size) throw new PingetError('BAD_INPUT', `${file}: no lock header nor manual names to re-resolve; make it with \`pinget lock\``);
    return { names: [...manual].sort(), recommends: true };
  }
  const words = value.split(/\s+/).filter(Boolean);
  const out: LockRequest = { names: [], recommends: true };
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w === '--no-install-recommends') out.recommends = false;
    else if (w === '--sources') out.sources = true;
    else if (w === '-t' && words[i + 1]) out.targetRelease = words[++i];
    else if (w === '--distro' && words[i + 1]?.includes(':')) {
      const [osId, release] = words[++i].split(':');
      out.empty = { osId, release };
    } else if (w.startsWith('-')) throw new PingetError('BAD_INPUT', `${file}: lock header: unknown option ${JSON.stringify(w.slice(0, 40))}`);
    else out.names.push(w);
  }
  return out;
}
