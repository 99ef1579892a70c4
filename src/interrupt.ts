/**
 * SIGINT and SIGTERM: the first aborts interruptSignal() so long operations unwind (temp files go in their
 * `finally` blocks) and the CLI exits 130 or 143; a second one, or one while nothing listens, exits at once.
 */
import { PingetError } from './errors.js';
import { writeMessage } from './ui/stderr-line.js';

const CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };
let controller: AbortController | undefined;
let listened = false;
let received: NodeJS.Signals | undefined;

function onSignal(signal: NodeJS.Signals): void {
  if (received || !listened) {
    writeMessage(process.stderr, 'pinget: interrupted\n');
    process.exit(CODES[received ?? signal]);
  }
  received = signal;
  controller!.abort(new PingetError('INTERRUPTED', 'interrupted'));
}

/** Installs the handlers; main() calls it once before running a command. */
export function handleInterrupts(): void {
  if (controller) return;
  controller = new AbortController();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** Aborted on the first SIGINT/SIGTERM. Asking for it means the caller unwinds on abort. */
export function interruptSignal(): AbortSignal {
  handleInterrupts();
  listened = true;
  return controller!.signal;
}

/** 130 or 143 once a signal arrived, else undefined. */
export function interruptExitCode(): number | undefined {
  return received ? CODES[received] : undefined;
}
