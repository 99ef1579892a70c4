/** Strict UTF-8 for files read from outside (lockfiles, package databases): invalid bytes are an error, never a silent U+FFFD. */
import { PingetError } from './errors.js';

/** The text, or the 1-based line of the first invalid byte sequence. */
export function decodeUtf8(bytes: Uint8Array): { text: string } | { badLine: number } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes) };
  } catch {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    let line = 1;
    for (let start = 0; start <= bytes.length; line++) {
      let end = bytes.indexOf(0x0a, start);
      if (end < 0) end = bytes.length;
      try {
        decoder.decode(bytes.subarray(start, end));
      } catch {
        break;
      }
      start = end + 1;
    }
    return { badLine: line };
  }
}

/** A package database's text; BAD_INPUT naming the file and line when it is not UTF-8 (a corrupted file). */
export function decodeDatabase(bytes: Uint8Array, file: string): string {
  const r = decodeUtf8(bytes);
  if ('text' in r) return r.text;
  throw new PingetError('BAD_INPUT', `${file}:${r.badLine}: the line is not valid UTF-8 (a corrupted file?)`);
}

/** The errno code of a failed file operation, else its message. */
export function errnoOf(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? String(e);
}
