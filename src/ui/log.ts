/** Messages for people go to stderr; stdout is kept for results (lockfiles, --json). */
import { writeMessage } from './stderr-line.js';

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  verbose(msg: string): void;
}

export function createLogger(opts: { quiet?: boolean; verbose?: boolean; stream?: NodeJS.WritableStream } = {}): Logger {
  const out = opts.stream ?? process.stderr;
  return {
    info: (msg) => {
      if (!opts.quiet) writeMessage(out, `${msg}\n`);
    },
    warn: (msg) => {
      writeMessage(out, `pinget: warning: ${msg}\n`);
    },
    verbose: (msg) => {
      if (opts.verbose) writeMessage(out, `${msg}\n`);
    },
  };
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, verbose: () => {} };
