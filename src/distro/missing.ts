/**
 * Installed packages that no index (or cache) can pin: an error naming them, or with
 * `hash generate --allow-missing`, a warning naming them and a lockfile without them (and a `left-out`
 * header naming them, so `hash verify` knows they were left out on purpose).
 */
import { PingetError } from '../errors.js';
import type { GenerateOptions } from './types.js';

/**
 * Why a package is not pinned:
 * - absent: no index, cache nor archive has this version (or none was asked);
 * - unavailable: an archive could not be reached, trying later may help;
 * - unlisted: the archive has the file, but no signed index of it lists this package (exit 3);
 * - tampered: the evidence did not verify (bad signature, index or build not the signed one): exit 3
 *   even with --allow-missing, because something served altered data.
 */
export type UnpinnedKind = 'absent' | 'unavailable' | 'unlisted' | 'tampered';

export interface UnpinnedItem {
  /** `name:arch=version` */
  name: string;
  kind: UnpinnedKind;
  reason: string;
  /** The part of the reason many packages share (the archive's failure), when the rest is the package's own. */
  cause?: string;
  /** The package, for the lockfile's `left-out` header (verify's `name:arch`). */
  ref?: { name: string; arch: string };
}

/** How many names a one-line message shows (nameList); the rest go to --verbose or --json. */
export const SHOWN_NAMES = 5;
const SHOWN = SHOWN_NAMES;

/** The lockfile header naming, as `name:arch` separated by spaces, what --allow-missing left out on purpose. */
export const LEFT_OUT_HEADER = 'left-out';

export function parseLeftOut(headers: Record<string, string>): Set<string> {
  return new Set((headers[LEFT_OUT_HEADER] ?? '').split(/\s+/).filter(Boolean));
}

/** The names, for a one-line message: the first few and how many more. */
export function nameList(names: string[], shown = SHOWN): string {
  return `${names.slice(0, shown).join(', ')}${names.length > shown ? `, and ${names.length - shown} more` : ''}`;
}

/**
 * One cause: the items' shared reason with what is each package's own masked (a URL is reduced to its
 * host, the package's name and version to "…"), so a DNS failure of the archive is one cause, not 110.
 */
function causeOf(i: UnpinnedItem): string {
  let text = (i.cause ?? i.reason).replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s;,)]*[^\s;,):.]/gi, (u) => {
    try {
      return new URL(u).origin;
    } catch {
      return u;
    }
  });
  for (const part of i.name.split(/[\s:=()]+/).filter((t) => t.length > 1)) text = text.split(part).join('…');
  return `${i.kind}: ${text || 'no reason given'}`;
}

/**
 * One line per cause, the most frequent first: the count, the cause, the first few names. A few packages
 * are each shown with their own reason.
 */
export function causeLines(items: UnpinnedItem[]): string[] {
  if (items.length <= SHOWN) return items.map((i) => `${i.name}: ${i.reason}`);
  const groups = new Map<string, string[]>();
  for (const i of items) groups.set(causeOf(i), [...(groups.get(causeOf(i)) ?? []), i.name]);
  return [...groups].sort((a, b) => b[1].length - a[1].length).map(([cause, names]) => `${names.length} × ${cause}: ${nameList(names)}`);
}

/**
 * Reports packages that stay unpinned: one line per cause (a count and the first few names; every package
 * with its own reason under --verbose), and one hint for what to do. Throws: INTEGRITY when any evidence
 * was altered (always) or unlisted (without --allow-missing); else UNAVAILABLE when an archive could not be
 * reached, BAD_INPUT otherwise; with --allow-missing, warns instead and adds them to `opts.leftOut`.
 */
export function reportUnpinned(opts: GenerateOptions, items: UnpinnedItem[], hint: string): void {
  if (items.length === 0) return;
  for (const i of items) opts.log.verbose(`unpinned ${i.name}: ${i.reason}`);
  const tampered = items.filter((i) => i.kind === 'tampered' || (i.kind === 'unlisted' && !opts.allowMissing));
  if (tampered.length) {
    throw new PingetError('INTEGRITY', `${tampered.length} installed package(s) have no signed evidence and are not pinned: ${nameList(tampered.map((i) => i.name))}`, { details: causeLines(tampered) });
  }
  const code = items.some((i) => i.kind === 'unavailable') ? 'UNAVAILABLE' : 'BAD_INPUT';
  const message = `${items.length} installed package(s) cannot be pinned: ${nameList(items.map((i) => i.name))}`;
  const why = items.length > SHOWN ? 'why, below (each package with --verbose)' : 'why, below';
  if (!opts.allowMissing) throw new PingetError(code, `${message}; ${hint} (${why})`, { details: causeLines(items) });
  opts.log.warn(`--allow-missing: left out of the lockfile (its left-out header names them): ${message}`);
  for (const line of causeLines(items)) opts.log.warn(`  ${line}`);
  opts.leftOut?.push(...items.flatMap((i) => (i.ref ? [`${i.ref.name}:${i.ref.arch}`] : [])));
}
