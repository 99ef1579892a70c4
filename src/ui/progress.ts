/**
 * A one-line progress display on stderr for fetchAll: files done/total, bytes received, rate, ETA.
 * Sizes are binary units (KiB, MiB) here and in every summary line (formatBytes).
 * Shown only on a TTY and never with --quiet or --json (see progressEnabled); otherwise a no-op.
 */
import cliProgress from 'cli-progress';
import type { ProgressEvent } from '../fetch/chain.js';
import { formatBytes } from './units.js';

export { formatBytes } from './units.js';
export { progressEnabled } from './progress-enabled.js';

export interface Progress {
  onProgress: (e: ProgressEvent) => void;
  stop: () => void;
}

export interface ProgressOptions {
  enabled: boolean;
  /** Number of files expected. */
  total: number;
  stream?: NodeJS.WriteStream;
}


/** Seconds as `1h02m`, `4m05s` or `12s`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/**
 * Time left, from the pace so far. The lockfile gives no sizes, so it counts files; each file in flight
 * counts as half done so the estimate starts before the first file completes.
 */
export function estimateLeft(elapsedSeconds: number, done: number, inFlight: number, total: number): number | undefined {
  const progress = done + inFlight / 2;
  if (progress <= 0 || elapsedSeconds < 1) return undefined;
  return (elapsedSeconds / progress) * Math.max(0, total - progress);
}

const noop: Progress = { onProgress: () => {}, stop: () => {} };

export function createProgress(opts: ProgressOptions): Progress {
  if (!opts.enabled || opts.total === 0) return noop;
  const started = Date.now();
  let files = 0;
  let failed = 0;
  let bytes = 0;
  // Bytes of the current attempt per target, taken back when a provider fails midway and the next starts over.
  const inFlight = new Map<string, number>();
  const bar = new cliProgress.SingleBar(
    {
      stream: opts.stream ?? process.stderr,
      format: ' {bar} {value}/{total} files | {size} | {rate} | ETA {left}{failed}',
      hideCursor: true,
      clearOnComplete: true,
      fps: 8,
      barsize: 24,
    },
    cliProgress.Presets.shades_classic,
  );
  const payload = () => {
    const secs = (Date.now() - started) / 1000;
    return {
      size: formatBytes(bytes),
      rate: secs > 0 ? `${formatBytes(bytes / secs)}/s` : '-',
      left: ((t) => (t === undefined ? '-' : formatDuration(t)))(estimateLeft(secs, files, inFlight.size, opts.total)),
      failed: failed ? ` | ${failed} failed` : '',
    };
  };
  bar.start(opts.total, 0, payload());

  return {
    onProgress(e) {
      const key = e.target.sha256;
      switch (e.kind) {
        case 'start':
          bytes -= inFlight.get(key) ?? 0;
          inFlight.set(key, 0);
          break;
        case 'bytes':
          bytes += e.bytes ?? 0;
          inFlight.set(key, (inFlight.get(key) ?? 0) + (e.bytes ?? 0));
          break;
        case 'done':
          inFlight.delete(key);
          files++;
          break;
        case 'fail':
          bytes -= inFlight.get(key) ?? 0;
          inFlight.delete(key);
          failed++;
          files++;
          break;
      }
      bar.update(files, payload());
    },
    stop() {
      bar.stop();
    },
  };
}
