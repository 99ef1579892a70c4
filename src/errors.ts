/**
 * Errors are values: a code that the CLI maps to an exit code, a one-line message for people,
 * and the cause for --verbose.
 */
export type ErrorCode =
  | 'DRIFT' // hash verify found drift, diff --exit-code found a difference
  | 'USAGE' // bad command line
  | 'BAD_INPUT' // lockfile syntax, unknown distro, missing package database
  | 'INTEGRITY' // bytes did not match their hash, bad signature
  | 'NOT_FOUND' // no provider had the file
  | 'UNAVAILABLE' // network, missing external tool
  | 'PACKAGE_MANAGER' // dpkg/rpm/apk/pacman failed
  | 'INTERRUPTED' // SIGINT/SIGTERM (the CLI exits 130 or 143)
  | 'INTERNAL';

export const EXIT_CODES: Record<ErrorCode, number> = {
  DRIFT: 1,
  USAGE: 2,
  BAD_INPUT: 2,
  INTEGRITY: 3,
  NOT_FOUND: 4,
  UNAVAILABLE: 4,
  PACKAGE_MANAGER: 5,
  INTERRUPTED: 130,
  INTERNAL: 70,
};

export class PingetError extends Error {
  readonly code: ErrorCode;
  /** Extra lines shown under the message, e.g. each provider tried and why it failed. */
  readonly details: string[];

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: string[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PingetError';
    this.code = code;
    this.details = options.details ?? [];
  }

  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}

export function isPingetError(e: unknown): e is PingetError {
  return e instanceof PingetError;
}

/** Wraps anything thrown into a PingetError, keeping PingetErrors as they are. */
export function toPingetError(e: unknown, code: ErrorCode = 'INTERNAL', message?: string): PingetError {
  if (isPingetError(e)) return e;
  const text = message ?? (e instanceof Error ? e.message : String(e));
  return new PingetError(code, text, { cause: e });
}

/** A short reason from any thrown value, for lists of what went wrong. */
export function reasonOf(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    return code && !e.message.includes(code) ? `${e.message} (${code})` : e.message;
  }
  return String(e);
}

/**
 * A text cut for a message: at most `max` characters, the rest said as a count. Input echoed in a
 * message (a lockfile header, a server's line) can be any length; a message stays readable.
 */
export function clip(text: string, max = 200): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max);
  // Not half of a surrogate pair.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}… (${text.length - cut.length} more characters)`;
}
