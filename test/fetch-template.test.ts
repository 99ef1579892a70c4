import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PingetError } from '../src/errors.js';
import { rawLeafCid } from '../src/fetch/cid.js';
import { encodeSegment, expandTemplate, normalizeTemplate } from '../src/fetch/template.js';
import type { FetchTarget } from '../src/fetch/types.js';

const SHA = 'a'.repeat(64);
const target: FetchTarget = {
  path: 'pool/main/o/openssl/libssl3_3.0.15-1~deb12u1_amd64.deb',
  sha256: SHA,
  cid: 'QmRY19HEWeTJtRC6vAdz7rDfX3PjSMgXmd1KYi9guAACUj',
  headers: {},
};

function usageError(fn: () => unknown, mention: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof PingetError && e.code === 'USAGE' && mention.test(e.message));
}

test('every placeholder expands', () => {
  assert.equal(expandTemplate('https://m/debian/{{.Name}}', target), `https://m/debian/${target.path}`);
  assert.equal(expandTemplate('https://m/by-name/{{.Basename}}', target), 'https://m/by-name/libssl3_3.0.15-1~deb12u1_amd64.deb');
  assert.equal(expandTemplate('https://m/sha256/{{.SHA256}}', target), `https://m/sha256/${SHA}`);
  assert.equal(expandTemplate('http://127.0.0.1:8080/ipfs/{{.CID}}', target), `http://127.0.0.1:8080/ipfs/${target.cid}`);
  assert.equal(expandTemplate('https://m/{{.SHA256}}/{{.Basename}}', target), `https://m/${SHA}/libssl3_3.0.15-1~deb12u1_amd64.deb`);
});

test('spaces inside the braces are tolerated', () => {
  assert.equal(expandTemplate('https://m/{{ .Name }}', target), `https://m/${target.path}`);
  assert.equal(expandTemplate('https://m/{{.SHA256 }}', target), `https://m/${SHA}`);
});

test('a template without placeholders is a base URL: /{{.Name}} is appended', () => {
  assert.equal(normalizeTemplate('https://mirror/debian'), 'https://mirror/debian/{{.Name}}');
  assert.equal(expandTemplate('https://mirror/debian/', target), `https://mirror/debian/${target.path}`);
  assert.equal(expandTemplate('file:///srv/mirror', target), `file:///srv/mirror/${target.path}`);
});

test('path segments are percent-encoded the way apt does: ":" as %3a, "+" and "~" literal, "/" kept', () => {
  const epoch: FetchTarget = { ...target, path: 'pool/main/f/foo/foo_1:2.3+dfsg-1_amd64.deb' };
  assert.equal(expandTemplate('https://m/{{.Name}}', epoch), 'https://m/pool/main/f/foo/foo_1%3a2.3+dfsg-1_amd64.deb');
  assert.equal(expandTemplate('https://m/{{.Basename}}', epoch), 'https://m/foo_1%3a2.3+dfsg-1_amd64.deb');
  assert.equal(encodeSegment('a b?#%é'), 'a%20b%3f%23%25%c3%a9');
  // a segment can never smuggle a "/" or ".." out of its place
  assert.equal(encodeSegment('x/y'), 'x%2fy');
});

test('{{.CID}} without an /ipfs/ line is the raw-leaf CIDv1 of the sha256', () => {
  const noCid: FetchTarget = { ...target, cid: undefined };
  assert.equal(expandTemplate('http://gw/ipfs/{{.CID}}', noCid), `http://gw/ipfs/${rawLeafCid(target.sha256)}`);
  assert.match(rawLeafCid(target.sha256), /^bafkrei[a-z2-7]{52}$/);
});

test('unknown or broken placeholders are USAGE errors naming the template', () => {
  usageError(() => expandTemplate('https://m/{{.Version}}', target), /https:\/\/m\/\{\{\.Version\}\}.*\{\{\.Version\}\}/);
  usageError(() => expandTemplate('https://m/{{Name}}', target), /"https:\/\/m\/\{\{Name\}\}"/);
  usageError(() => expandTemplate('https://m/{{.Name}', target), /unbalanced/);
  usageError(() => normalizeTemplate('https://m/{{ .name }}'), /\{\{\.name\}\}/);
});
