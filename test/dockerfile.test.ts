import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli, REPO_ROOT } from './helpers/cli.js';
import { defaultBase, generateDockerfile } from '../src/dockerfile.js';

const LOCK = join('testdata', 'diff', 'debian-new.SHA256SUMS');

test('dockerfile generate is deterministic and pins SOURCE_DATE_EPOCH from the snapshot header', async () => {
  const a = await runCli(['dockerfile', 'generate', LOCK]);
  const b = await runCli(['dockerfile', 'generate', LOCK]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stdout, b.stdout);
  // 2026-11-20T00:00:00Z
  assert.match(a.stdout, /^ARG SOURCE_DATE_EPOCH=1795132800$/m);
  assert.match(a.stdout, /^FROM debian:bookworm$/m);
  assert.match(a.stdout, /install --normalize --cache \/var\/cache\/pinget \/usr\/local\/lib\/pinget\/debian-new\.SHA256SUMS$/m);
  assert.match(a.stdout, /--mount=type=bind,source=testdata\/diff\/debian-new\.SHA256SUMS,target=/);
  assert.doesNotMatch(a.stdout, /apt-get update/, 'no apt lists are fetched into the image');
});

test('base images follow the distro header; --base overrides; no header and no --base is a usage error', async () => {
  assert.equal(defaultBase({ distro: 'ubuntu 24.04 (noble) amd64' }), 'ubuntu:noble');
  assert.equal(defaultBase({ distro: 'fedora 40 x86_64' }), 'fedora:40');
  assert.equal(defaultBase({ distro: 'alpine 3.20.3 x86_64' }), 'alpine:3.20.3');
  assert.equal(defaultBase({ distro: 'arch rolling x86_64' }), 'archlinux:base');
  const alpine = generateDockerfile({ lockfile: 'S', headers: { distro: 'alpine 3.20.3 x86_64' }, bundle: 'pinget.mjs', cacheMount: false });
  assert.match(alpine, /^FROM node:20-alpine AS pinget-node$/m);
  assert.match(alpine, /^ARG SOURCE_DATE_EPOCH$/m);
  const res = await runCli(['dockerfile', 'generate', LOCK, '--base', 'debian@sha256:' + 'a'.repeat(64)]);
  assert.match(res.stdout, /^FROM debian@sha256:a{64}$/m);
  const none = await runCli(['dockerfile', 'generate', join(REPO_ROOT, 'testdata', 'lockfiles', 'no-headers.SHA256SUMS')]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no distro header to choose a base image from; pass --base IMAGE/);
});
