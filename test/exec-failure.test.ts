/** A failing tool's error shows the lines that say why, not the last lines of its output. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failureReason, runChecked } from '../src/exec.js';

// The shape of dnf 4's stderr when the host's dnf-plugins-core met --installroot: the error, then its whole
// configuration dump (the tail is what the message used to show).
const dnfDump = [
  'Error: Failed to download metadata for repo \'_dnf_local\': you do not have any GPG public keys installed',
  'Repository _dnf_local: ',
  ...['proxy_auth_method: any', 'proxy_sslverify: 1', 'repo_gpgcheck: 0', 'retries: 10', 'skip_if_unavailable: 1', 'sslverify: 1', 'throttle: 0', 'timeout: 30', 'type: ', 'username: '],
].join('\n');

test('failureReason keeps the error lines of a configuration dump, not its tail', () => {
  assert.deepEqual(failureReason(dnfDump), [dnfDump.split('\n')[0]]);
  assert.doesNotMatch(failureReason(dnfDump).join(' '), /skip_if_unavailable|errorlevel/);
});

test('failureReason falls back to the last lines when none says why; garbage and nothing give nothing odd', () => {
  assert.deepEqual(failureReason('a\nb\nc\nd\ne\nf\ng'), ['c', 'd', 'e', 'f', 'g']);
  assert.deepEqual(failureReason(''), []);
  assert.deepEqual(failureReason('\u0000\u0001\n\n'), ['\u0000\u0001']);
  assert.deepEqual(failureReason('errorlevel: 3\nsslverifystatus: 0'), ['errorlevel: 3', 'sslverifystatus: 0'], 'option names are not reasons');
});

test('runChecked on a real tool names its reason even when more output follows it', async () => {
  const script = 'echo "error: the reason" >&2; for i in 1 2 3 4 5 6 7 8; do echo "option$i: x" >&2; done; exit 3';
  await assert.rejects(runChecked('sh', ['-c', script], 'PACKAGE_MANAGER'), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'PACKAGE_MANAGER');
    assert.match(e.message, /sh -c failed \(exit 3\): error: the reason$/);
    return true;
  });
  await assert.rejects(runChecked('tar', ['-xf', '/nonexistent-pinget-test.tar'], 'INTERNAL'), /Cannot open: No such file or directory/);
});
