/** Turns provider templates into providers, by scheme. */
import { PingetError } from '../errors.js';
import type { Provider, ProviderContext, ProviderFactory } from './types.js';

// One entry per scheme family (import it above); each returns undefined for templates it does not handle.
const FACTORIES: ProviderFactory[] = [];

export function createProvider(template: string, ctx: ProviderContext): Provider {
  for (const f of FACTORIES) {
    const p = f(template, ctx);
    if (p) return p;
  }
  throw new PingetError('USAGE', `unknown provider scheme in "${template}" (expected http://, https://, file://, oci://, ipfs://, or a named resolver)`);
}
