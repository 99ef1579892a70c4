/**
 * A one-line progress display on stderr for fetchAll: a bar, files done/total, bytes received, rate, ETA,
 * fitted to the terminal's width (progress-line.ts). Messages logged meanwhile print above it, on lines of
 * their own (stderr-line.ts). Sizes are binary units (KiB, MiB) here and in every summary line.
 * Shown only on a TTY and never with --quiet or --json (see progressEnabled); otherwise a no-op.
 */
import cliProgress from 'cli-progress';
import type { ProgressEvent } from '../fetch/chain.js';
import { estimateLeft, formatDuration, progressLine } from './progress-line.js';
import { claimLastLine } from './stderr-line.js';
import { formatBytes } from './units.js';

export { formatBytes } from './units.js';
export { progressEnabled } from './progress-enabled.js';
export { estimateLeft, formatDuration, progressLine } from './progress-line.js';

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

const noop: Progress = { onProgress: () => {}, stop: () => {} };

export function createProgress(opts: ProgressOptions): Progress {
  if (!opts.enabled || opts.total === 0) return noop;
  const stream = opts.stream ?? process.stderr;
  const started = Date.now();
  let files = 0;
  let failed = 0;
  let received = 0;
  // sizes of the files done, for the mean size of the files not started
  let doneBytes = 0;
  let doneSized = 0;
  // per target of the current attempt: bytes so far and the announced size; taken back when a provider fails midway
  const inFlight = new Map<string, { got: number; size?: number }>();

  const payload = () => {
    const secs = (Date.now() - started) / 1000;
    let announced = 0;
    let announcedFiles = 0;
    let inFlightLeft = 0;
    for (const f of inFlight.values()) {
      if (f.size === undefined) continue;
      announced += f.size;
      announcedFiles++;
      inFlightLeft += Math.max(0, f.size - f.got);
    }
    const sized = doneSized + announcedFiles;
    const left = estimateLeft({
      elapsedSeconds: secs,
      received,
      inFlightLeft,
      unsized: Math.max(0, opts.total - files - announcedFiles),
      meanSize: sized ? (doneBytes + announced) / sized : undefined,
    });
    return {
      size: formatBytes(received),
      rate: secs > 0 ? `${formatBytes(received / secs)}/s` : '-',
      left: left === undefined ? '-' : formatDuration(left),
      failed,
    };
  };
  const multi = new cliProgress.MultiBar({
    stream,
    format: (_o, params, p) => progressLine({ fraction: params.progress, files: params.value, total: params.total, size: p.size, rate: p.rate, left: p.left, failed: p.failed }, stream.columns || 80),
    hideCursor: true,
    clearOnComplete: true,
    // a message printed above the bar wraps as it must; the bar itself is fitted to the width
    linewrap: true,
    // drawn again after a message even when nothing changed, and as the width changes
    forceRedraw: true,
    fps: 8,
  });
  const bar = multi.create(opts.total, 0, payload());
  const release = claimLastLine(stream, (text) => {
    multi.log(text);
    // printed now, not at the next tick: the process may exit right after a message
    multi.update();
  });

  return {
    onProgress(e) {
      const key = e.target.sha256;
      switch (e.kind) {
        case 'start':
          received -= inFlight.get(key)?.got ?? 0;
          inFlight.set(key, { got: 0, size: e.total });
          break;
        case 'bytes': {
          received += e.bytes ?? 0;
          const f = inFlight.get(key) ?? { got: 0 };
          f.got += e.bytes ?? 0;
          inFlight.set(key, f);
          break;
        }
        case 'done':
          inFlight.delete(key);
          if (e.bytes !== undefined) {
            doneBytes += e.bytes;
            doneSized++;
          }
          files++;
          break;
        case 'fail':
          received -= inFlight.get(key)?.got ?? 0;
          inFlight.delete(key);
          failed++;
          files++;
          break;
      }
      bar.update(files, payload());
    },
    stop() {
      release();
      multi.update();
      multi.stop();
    },
  };
}
