/**
 * Installed packages that no index (or cache) can pin: an error naming them, or with
 * `hash generate --allow-missing`, a warning naming them and a lockfile without them.
 */
import { PingetError } from '../src/errors.js';
import type { GenerateOptions } from './types.js';

export function reportUnpinnable(opts: GenerateOptions, message: string, names: string[]): void {
  if (names.length === 0) return;
  if (!opts.allowMissing) throw new PingetError('BAD_INPUT', message, { details: names });
  opts.log.warn(`--allow-missing: left out of the lockfile: ${message.replace(/; [^;]*$/, '')}`);
}
