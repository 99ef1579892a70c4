/** Whether a progress display belongs on this stderr; apart from progress.ts so the answer "no" does not load cli-progress. */
export function progressEnabled(opts: { quiet?: boolean; json?: boolean }, stream: NodeJS.WriteStream = process.stderr): boolean {
  return Boolean(stream.isTTY) && !opts.quiet && !opts.json && process.env.TERM !== 'dumb';
}
