/** Packages left unpinned are reported one line per cause, not one line (or more) per package. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { causeLines, reportUnpinned, type UnpinnedItem } from '../src/distro/missing.js';
import type { Logger } from '../src/ui/log.js';

function capture(): Logger & { warnings: string[]; verboseLines: string[] } {
  const warnings: string[] = [];
  const verboseLines: string[] = [];
  return { warnings, verboseLines, info: () => {}, warn: (m) => warnings.push(m), verbose: (m) => verboseLines.push(m) };
}

// The flood of a real run: every lookup failed on the same DNS failure, its message naming each package's URL,
// and each package's own note about the apt lists.
const dns = (i: number): UnpinnedItem => ({
  name: `pkg${i}:amd64=1.${i}-1`,
  kind: 'unavailable',
  reason: `snapshot archive lookup failed: http://snapshot.invalid/mr/binary/pkg${i}/1.${i}-1/binfiles?fileinfo=1: getaddrinfo EAI_AGAIN snapshot.invalid; the apt lists have 1.${i}-2`,
  cause: `snapshot archive lookup failed: http://snapshot.invalid/mr/binary/pkg${i}/1.${i}-1/binfiles?fileinfo=1: getaddrinfo EAI_AGAIN snapshot.invalid`,
  ref: { name: `pkg${i}`, arch: 'amd64' },
});
const flood = [...Array.from({ length: 108 }, (_, i) => dns(i)), { name: 'local:amd64=1', kind: 'absent' as const, reason: 'not in the snapshot archive', ref: { name: 'local', arch: 'amd64' } }, { name: 'other:amd64=2', kind: 'absent' as const, reason: 'not in the snapshot archive', ref: { name: 'other', arch: 'amd64' } }];

test('110 unpinned packages of two causes: two lines, each with its count and the first few names', () => {
  const lines = causeLines(flood);
  assert.equal(lines.length, 2, lines.join('\n'));
  assert.match(lines[0], /^108 × unavailable: snapshot archive lookup failed: http:\/\/snapshot\.invalid: getaddrinfo EAI_AGAIN snapshot\.invalid: pkg0:amd64=1\.0-1, pkg1:amd64=1\.1-1, .*, and 103 more$/);
  assert.equal(lines[1], '2 × absent: not in the snapshot archive: local:amd64=1, other:amd64=2');
});

test('--allow-missing: a header line and one warning per cause; every package with --verbose; leftOut collected', () => {
  const log = capture();
  const leftOut: string[] = [];
  reportUnpinned({ allowMissing: true, leftOut, log }, flood, 'a hint');
  assert.equal(log.warnings.length, 3, log.warnings.join('\n'));
  assert.match(log.warnings[0], /^--allow-missing: left out of the lockfile .*110 installed package\(s\) cannot be pinned: pkg0:amd64=1\.0-1, .*, and 105 more$/);
  assert.equal(log.verboseLines.length, 110);
  assert.equal(leftOut.length, 110);
  assert.ok(leftOut.includes('pkg42:amd64') && leftOut.includes('local:amd64'));
});

test('without --allow-missing: one error whose details are the causes, below it, as it says', () => {
  const log = capture();
  assert.throws(() => reportUnpinned({ log }, flood, 'try again later'), (e: Error & { code?: string; details?: string[] }) => {
    assert.equal(e.code, 'UNAVAILABLE');
    assert.match(e.message, /^110 installed package\(s\) cannot be pinned: pkg0:amd64=1\.0-1, .*, and 105 more; try again later \(why, below \(each package with --verbose\)\)$/);
    assert.equal(e.details?.length, 2);
    return true;
  });
});

test('a few packages are each named with their own reason; garbage reasons do not break the grouping', () => {
  assert.deepEqual(causeLines(flood.slice(0, 2)), [`${flood[0].name}: ${flood[0].reason}`, `${flood[1].name}: ${flood[1].reason}`]);
  const odd: UnpinnedItem[] = Array.from({ length: 7 }, (_, i) => ({ name: `x${i}`, kind: 'absent', reason: i % 2 ? '' : 'ht!tp://[::1' }));
  const lines = causeLines(odd);
  assert.equal(lines.length, 2, lines.join('\n'));
  assert.ok(lines.some((l) => l.startsWith('3 × absent: no reason given: ')));
});
