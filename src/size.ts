/** Sizes given on the command line: `4G`, `512MiB`, `100k`, `1048576`. */

const UNITS: Record<string, number> = { '': 1, b: 1 };
for (const [i, p] of ['k', 'm', 'g', 't'].entries()) {
  // K/M/G/T are binary, like curl's and dd's suffixes; the KiB spellings say so explicitly.
  UNITS[p] = UNITS[`${p}ib`] = UNITS[`${p}b`] = 1024 ** (i + 1);
}

/** Bytes from SIZE, or undefined when it is not a size. */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = UNITS[m[2].toLowerCase()];
  if (unit === undefined) return undefined;
  const n = Math.floor(Number(m[1]) * unit);
  return Number.isSafeInteger(n) ? n : undefined;
}
