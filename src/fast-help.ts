/**
 * `pinget --help`, `-h`, `--version` and `-V` without loading yargs or any command (yargs alone costs more
 * than Node's own start-up). The build renders those outputs once with the real yargs definitions
 * (scripts/render-help.mjs): into dist/src/help-text.json for the tsc build, into the PINGET_FAST_OUTPUT
 * define for the bundle. Anything the rendered text does not cover (another width, a translated locale,
 * the dev run from src/ with no rendered file) returns undefined and goes through yargs.
 */
import { readFileSync } from 'node:fs';

declare const PINGET_FAST_OUTPUT: string | undefined;

/** The argv forms with a rendered output, and the yargs wrap widths they are rendered for. */
export const FAST_FORMS = ['--help', '-h', '--version', '-V'] as const;
export const FAST_WIDTHS = [100, 110] as const;

/** width -> form -> exact stdout. */
export type FastOutputs = Record<string, Record<string, string>>;

function rendered(): FastOutputs | undefined {
  try {
    const text = typeof PINGET_FAST_OUTPUT === 'string' ? PINGET_FAST_OUTPUT : readFileSync(new URL('./help-text.json', import.meta.url), 'utf8');
    return JSON.parse(text) as FastOutputs;
  } catch {
    return undefined;
  }
}

/** yargs' own locale guess (LC_ALL, LC_MESSAGES, LANG, LANGUAGE); its texts are English unless it has a translation. */
function englishLocale(env: NodeJS.ProcessEnv): boolean {
  const locale = (env.LC_ALL || env.LC_MESSAGES || env.LANG || env.LANGUAGE || 'en_US').replace(/[.:].*/, '');
  return /^(en([_-].*)?|C|POSIX)$/.test(locale);
}

/** The stdout `pinget ARGV` prints, when it is one of the rendered forms; else undefined. */
export function fastOutput(argv: string[], env: NodeJS.ProcessEnv, columns: number | undefined): string | undefined {
  if (argv.length !== 1 || !(FAST_FORMS as readonly string[]).includes(argv[0])) return undefined;
  if (env.PINGET_NO_FAST_HELP || env.YARGS_DISABLE_WRAP || !englishLocale(env)) return undefined;
  // The same width main.ts gives yargs.
  const width = Math.min(110, columns || 100);
  return rendered()?.[String(width)]?.[argv[0]];
}
