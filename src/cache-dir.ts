/** Where the cache lives by default: $PINGET_CACHE, else $XDG_CACHE_HOME/pinget, else ~/.cache/pinget. */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PINGET_CACHE) return env.PINGET_CACHE;
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'pinget');
}
