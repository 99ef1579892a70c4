/** Messages for people go to stderr; stdout is kept for results (lockfiles, --json). */
export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  verbose(msg: string): void;
}

export function createLogger(opts: { quiet?: boolean; verbose?: boolean; stream?: NodeJS.WritableStream } = {}): Logger {
  const out = opts.stream ?? process.stderr;
  return {
    info: (msg) => {
      if (!opts.quiet) out.write(`${msg}\n`);
    },
    warn: (msg) => {
      out.write(`pinget: warning: ${msg}\n`);
    },
    verbose: (msg) => {
      if (opts.verbose) out.write(`${msg}\n`);
    },
  };
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, verbose: () => {} };
