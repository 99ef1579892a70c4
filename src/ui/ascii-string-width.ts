/**
 * Stands in for the string-width package where yargs and its layout helpers import it (cli.ts installs
 * the redirect). The real package builds an Intl.Segmenter and Unicode-property regexes when it loads:
 * about a quarter of pinget's start-up, paid on every run for widths that only help and usage errors ask
 * for. Printable ASCII (all of pinget's help) is as wide as it is long; any other string goes to the real
 * package the importer resolved (the `of` parameter of this module's URL), loaded on first need.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export type StringWidth = (text: string, options?: unknown) => number;

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** A string-width that calls `load()` (the real one) only for a string that is not printable ASCII. */
export function deferredWidth(load: () => StringWidth): StringWidth {
  let real: StringWidth | undefined;
  return (text, options) => {
    if (typeof text !== 'string') return 0;
    if (PRINTABLE_ASCII.test(text)) return text.length;
    real ??= load();
    return real(text, options);
  };
}

function loadReal(): StringWidth {
  const of = new URL(import.meta.url).searchParams.get('of');
  if (!of) throw new Error('ascii-string-width: loaded without the URL of the real string-width');
  const mod = createRequire(import.meta.url)(fileURLToPath(of)) as StringWidth | { default: StringWidth };
  return typeof mod === 'function' ? mod : mod.default;
}

export default deferredWidth(loadReal);
