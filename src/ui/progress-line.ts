/** What the progress display shows, as pure functions: the time left from bytes, and the line fitted to the terminal. */

/** Seconds as `1h02m`, `4m05s` or `12s`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

export interface Pace {
  elapsedSeconds: number;
  /** Bytes received so far in this run. */
  received: number;
  /** Bytes still to come of the files in flight whose size the provider announced. */
  inFlightLeft: number;
  /** Files not started yet, or in flight without an announced size. */
  unsized: number;
  /** Mean size of the files whose size is known (done, or announced); undefined when none is. */
  meanSize?: number;
}

/**
 * Time left, from bytes: what is still to come (announced sizes, and the mean size for files without
 * one; the lockfile gives no sizes) at the rate so far. Undefined until there is a rate and a size to go by.
 */
export function estimateLeft(p: Pace): number | undefined {
  if (p.elapsedSeconds < 1 || p.received <= 0) return undefined;
  if (p.unsized > 0 && p.meanSize === undefined) return undefined;
  return (p.inFlightLeft + p.unsized * (p.meanSize ?? 0)) / (p.received / p.elapsedSeconds);
}

export interface LineParts {
  /** 0..1 */
  fraction: number;
  files: number;
  total: number;
  size: string;
  rate: string;
  left: string;
  failed: number;
}

/** Bar cells: at most this many, and no bar when fewer than MIN_CELLS fit; a counter line then. */
const MAX_CELLS = 24;
const MIN_CELLS = 8;

/**
 * The line for a terminal `columns` wide, never longer than columns - 1 (the last column would wrap): the
 * bar shrinks first, then goes; then the rate, the size and the ETA are left out, in that order. A failure
 * count is never left out.
 */
export function progressLine(p: LineParts, columns: number): string {
  const max = Math.max(1, columns - 1);
  const counter = `${p.files}/${p.total} files`;
  const failed = p.failed ? [`${p.failed} failed`] : [];
  const variants = [
    [counter, p.size, p.rate, `ETA ${p.left}`, ...failed],
    [counter, p.size, `ETA ${p.left}`, ...failed],
    [counter, `ETA ${p.left}`, ...failed],
    [counter, ...failed],
  ].map((parts) => parts.join(' | '));
  const full = variants[0];
  const cells = Math.min(MAX_CELLS, max - full.length - 2);
  if (cells >= MIN_CELLS) {
    const filled = Math.round(Math.min(1, Math.max(0, p.fraction)) * cells);
    return ` ${'\u2588'.repeat(filled)}${'\u2591'.repeat(cells - filled)} ${full}`;
  }
  return (variants.find((v) => v.length <= max) ?? variants[variants.length - 1]).slice(0, max);
}
