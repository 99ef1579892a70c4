/** Turns provider templates into providers, by scheme. */
import { PingetError } from '../errors.js';
import type { Provider, ProviderContext, ProviderFactory } from './types.js';
import { httpProviderFactory } from './http.js';
import { fileProviderFactory } from './file.js';
import { ociProviderFactory } from './oci.js';
import { ipfsProviderFactory } from './ipfs.js';
import { ARCHIVE_FACTORIES } from './archives/index.js';

// One entry per scheme family (import it above); each returns undefined for templates it does not handle.
const FACTORIES: ProviderFactory[] = [httpProviderFactory, fileProviderFactory, ociProviderFactory, ipfsProviderFactory, ...ARCHIVE_FACTORIES];

/** `extra`: factories a distro adapter brings for its own mirror formats (e.g. Fedora's rpm-md+ lookup). */
export function createProvider(template: string, ctx: ProviderContext, extra: ProviderFactory[] = []): Provider {
  for (const f of [...FACTORIES, ...extra]) {
    const p = f(template, ctx);
    if (p) return p;
  }
  throw new PingetError('USAGE', `unknown provider scheme in "${template}" (expected http://, https://, file://, oci://, ipfs://, or a named resolver)`);
}
