/** pinget's version: injected by the bundle build (esbuild --define), else read from package.json. */
import { readFileSync } from 'node:fs';

declare const PINGET_VERSION: string | undefined;

export function pingetVersion(): string {
  if (typeof PINGET_VERSION === 'string') return PINGET_VERSION;
  // src/version.ts runs from src/ (tsx) or dist/src/ (tsc): package.json is one or two levels up.
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'pinget' && pkg.version) return pkg.version;
    } catch {
      // not there; try the next
    }
  }
  return 'unknown';
}
