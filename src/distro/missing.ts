/**
 * Installed packages that no index (or cache) can pin: an error naming them, or with
 * `hash generate --allow-missing`, a warning naming them and a lockfile without them.
 */
import { PingetError } from '../errors.js';
import type { GenerateOptions } from './types.js';

export function reportUnpinnable(opts: GenerateOptions, message: string, names: string[]): void {
  if (names.length === 0) return;
  if (!opts.allowMissing) throw new PingetError('BAD_INPUT', message, { details: names });
  opts.log.warn(`--allow-missing: left out of the lockfile: ${message.replace(/; [^;]*$/, '')}`);
}

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
}

/** The names, for the one-line message; each reason is on its own line in the details. */
function list(items: UnpinnedItem[]): string {
  const shown = items.slice(0, 10).map((i) => i.name);
  return `${shown.join(', ')}${items.length > 10 ? `, and ${items.length - 10} more` : ''}`;
}

/**
 * Reports packages that stay unpinned, each with its reason, and one hint for what to do. Throws:
 * INTEGRITY when any evidence was altered (always) or unlisted (without --allow-missing); else UNAVAILABLE
 * when an archive could not be reached, BAD_INPUT otherwise; with --allow-missing, warns instead.
 */
export function reportUnpinned(opts: GenerateOptions, items: UnpinnedItem[], hint: string): void {
  if (items.length === 0) return;
  const details = items.map((i) => `${i.name}: ${i.reason}`);
  const tampered = items.filter((i) => i.kind === 'tampered' || (i.kind === 'unlisted' && !opts.allowMissing));
  if (tampered.length) {
    throw new PingetError('INTEGRITY', `${tampered.length} installed package(s) have no signed evidence and are not pinned: ${list(tampered)}`, { details });
  }
  const code = items.some((i) => i.kind === 'unavailable') ? 'UNAVAILABLE' : 'BAD_INPUT';
  const message = `${items.length} installed package(s) cannot be pinned: ${list(items)}`;
  if (!opts.allowMissing) throw new PingetError(code, `${message}; ${hint}`, { details });
  opts.log.warn(`--allow-missing: left out of the lockfile: ${message}`);
  for (const d of details) opts.log.warn(`  ${d}`);
}
