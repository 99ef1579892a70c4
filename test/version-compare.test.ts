import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { compareDebianVersions, compareEvr, isPinnedVersion, rpmvercmp } from '../src/distro/version-compare.js';

const debianPairs: [string, string][] = [
  ['1.0', '1.0'],
  ['1.0', '1.1'],
  ['1.0~rc1', '1.0'],
  ['1.0~rc1', '1.0~rc2'],
  ['1.0-1', '1.0-2'],
  ['1:0.9', '2.0'],
  ['2.10-2', '2.9-1'],
  ['1.0+dfsg-1', '1.0-1'],
  ['1.0a', '1.0'],
  ['1.0-1~deb12u1', '1.0-1'],
  ['7.88.1-10+deb12u5', '7.88.1-10+deb12u12'],
  ['0.0.9', '0.0.10'],
  ['1.2.3-0ubuntu1', '1.2.3-1'],
];

test('Debian version order matches dpkg --compare-versions', () => {
  for (const [a, b] of debianPairs) {
    const ours = Math.sign(compareDebianVersions(a, b));
    const lt = spawnSync('dpkg', ['--compare-versions', a, 'lt', b]).status === 0;
    const eq = spawnSync('dpkg', ['--compare-versions', a, 'eq', b]).status === 0;
    const theirs = lt ? -1 : eq ? 0 : 1;
    assert.equal(ours, theirs, `${a} vs ${b}`);
    assert.equal(Math.sign(compareDebianVersions(b, a)), 0 - theirs || 0, `${b} vs ${a}`);
  }
});

test('rpmvercmp and epoch:version-release order', () => {
  const cases: [string, string, number][] = [
    ['1.0', '1.0', 0],
    ['1.0', '1.0.1', -1],
    ['1.0a', '1.0', 1],
    ['1.0~rc1', '1.0', -1],
    ['2.0', '10.0', -1],
    ['1.0^git1', '1.0', 1],
    ['abc', '1', -1],
    ['1.01', '1.1', 0],
  ];
  for (const [a, b, want] of cases) assert.equal(Math.sign(rpmvercmp(a, b)), want, `${a} vs ${b}`);
  assert.equal(Math.sign(compareEvr('1:1.0-1', '2.0-1')), 1);
  assert.equal(Math.sign(compareEvr('2.12.1-4.fc40', '2.12.1-5.fc40')), -1);
  assert.equal(Math.sign(compareEvr('5.2.026-2', '5.2.026-1')), 1);
});

test('isPinnedVersion: a pinned version without epoch matches any epoch (older lockfiles); with one, only that epoch', () => {
  const cases: [string, string, boolean][] = [
    ['2.0-4', '2.0-4', true],
    ['2.0-4', '1:2.0-4', true], // Koji path, no epochs header: the epoch is unknown
    ['0:2.0-4', '2.0-4', true], // epochs header: none recorded, none installed
    ['0:2.0-4', '1:2.0-4', false], // an epoch-only change
    ['1:2.0-4', '1:2.0-4', true],
    ['1:2.0-4', '2.0-4', false],
    ['2:2.0-4', '1:2.0-4', false],
    ['1:2.0-4', '1:2.0-5', false],
  ];
  for (const [pinned, installed, want] of cases) assert.equal(isPinnedVersion(pinned, installed), want, `${pinned} vs ${installed}`);
});
