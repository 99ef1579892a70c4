/**
 * Which hosts have stopped answering, for the rest of the run. A host whose requests time out
 * (connect, headers, an idle body, a body under the minimum speed) several times in a row is
 * marked down: its requests in flight are aborted and new ones fail at once, so a hanging mirror
 * costs about one --timeout instead of --timeout × attempts × files. A request that completes
 * resets the count. A host whose name does not resolve is down at once: the resolver has retried already, and a
 * container without DNS would otherwise pay one failed look-up per file.
 */
import { PingetError } from '../errors.js';

/** Consecutive timed-out requests after which a host counts as down. */
export const DOWN_AFTER_TIMEOUTS = 2;

interface Health {
  timeouts: number;
  down?: PingetError;
  inFlight: Set<AbortController>;
}

const hosts = new Map<string, Health>();

function healthOf(host: string): Health {
  let h = hosts.get(host);
  if (!h) hosts.set(host, (h = { timeouts: 0, inFlight: new Set() }));
  return h;
}

/** The error a request to this host fails with, when the host is down. */
export function hostDown(host: string): PingetError | undefined {
  return hosts.get(host)?.down;
}

/** A request completed: the host answers. */
export function hostAnswered(host: string): void {
  const h = hosts.get(host);
  if (h && !h.down) h.timeouts = 0;
}

/** A request timed out; marks the host down (aborting what is in flight) after DOWN_AFTER_TIMEOUTS in a row. */
export function hostTimedOut(host: string): void {
  const h = healthOf(host);
  if (h.down) return;
  h.timeouts++;
  if (h.timeouts < DOWN_AFTER_TIMEOUTS) return;
  markDown(h, `${host} is not answering (${h.timeouts} requests in a row timed out); not asked again in this run`);
}

/** Down for the rest of the run: what is in flight is aborted, new requests fail with this reason. */
function markDown(h: Health, reason: string): void {
  h.down = new PingetError('UNAVAILABLE', reason);
  for (const c of h.inFlight) c.abort(h.down);
  h.inFlight.clear();
}

/** The host's name did not resolve: down for the rest of the run, with the resolver's reason. */
export function hostUnresolvable(host: string, reason: string): void {
  const h = healthOf(host);
  if (!h.down) markDown(h, `${host}: ${reason} (DNS failure); not asked again in this run`);
}

/**
 * A signal for one request to host: aborted when the caller's signal is, or when the host is marked
 * down. Call done() when the request (and its body) is finished.
 */
export function trackRequest(host: string, signal?: AbortSignal): { signal: AbortSignal; done: () => void } {
  const h = healthOf(host);
  const c = new AbortController();
  const onAbort = () => c.abort(signal!.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  h.inFlight.add(c);
  return {
    signal: c.signal,
    done: () => {
      h.inFlight.delete(c);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}

/** Forgets every host's state (tests in one process). */
export function resetHostHealth(): void {
  hosts.clear();
}
