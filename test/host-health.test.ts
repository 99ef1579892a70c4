/** A host whose name does not resolve is down for the rest of the run: one failed look-up, not one per file. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeHttp, httpRequest } from '../src/fetch/http-client.js';
import { hostDown, resetHostHealth } from '../src/fetch/host-health.js';

test('a DNS failure marks the host down: the next request fails with that reason, without asking the resolver again', async () => {
  resetHostHealth();
  const url = 'http://pinget-test.invalid/a';
  try {
    await assert.rejects(httpRequest(url, { timeoutMs: 5000, retries: 3 }), /DNS failure/);
    assert.match(hostDown('pinget-test.invalid')?.message ?? '', /not asked again in this run/);
    await assert.rejects(httpRequest(`${url}b`, { timeoutMs: 5000, retries: 3 }), /not asked again in this run/);
    assert.equal(hostDown('other.invalid'), undefined);
  } finally {
    resetHostHealth();
    await closeHttp();
  }
});
