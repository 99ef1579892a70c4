/**
 * One HTTP gateway template for a lockfile with `/ipfs/` lines for big files and none for small ones:
 * `{{.CID}}` is the recorded CID where there is one, else the raw-leaf CIDv1 of the sha256. The gateway is a
 * real HTTP server on 127.0.0.1 that knows each file only under the CID IPFS would give it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeCid, PINGET_IMPORT, rawLeafCid } from '../src/fetch/cid.js';
import { sha256Bytes } from '../src/verify/sha256.js';
import { runCli } from './helpers/cli.js';
import { serveDirectory, type TestServer } from './helpers/http-server.js';

let work: string;
let gateway: TestServer;
const files: { path: string; data: Buffer; sha256: string; cid: string; recorded: boolean }[] = [];

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pinget-ipfs-gw-'));
  const small = (path: string, size: number) => {
    const data = randomBytes(size);
    const sha256 = sha256Bytes(data);
    files.push({ path, data, sha256, cid: rawLeafCid(sha256), recorded: false });
  };
  small('pool/main/s/small/small_1.0_all.deb', 5000);
  small('pool/main/t/tiny/tiny_0.1_all.deb', 1);
  // over 1 MiB: a UnixFS DAG of several chunks, whose CID only an /ipfs/ line can give
  const big = randomBytes(1024 * 1024 * 2 + 123);
  const bigSha = sha256Bytes(big);
  files.push({ path: 'pool/main/b/big/big_2.0_all.deb', data: big, sha256: bigSha, cid: await computeCid(big, PINGET_IMPORT), recorded: true });
  assert.notEqual(files[2].cid, rawLeafCid(bigSha));
  const byCid = new Map(files.map((f) => [f.cid, f.data]));
  gateway = await serveDirectory(work, (_req, res, rel) => {
    const m = /^ipfs\/([^/]+)$/.exec(rel);
    const data = m ? byCid.get(m[1]) : undefined;
    if (data) res.writeHead(200, { 'content-length': data.length }).end(data);
    else res.writeHead(404).end('no link named');
    return true;
  });
});
after(async () => {
  await gateway?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

test('download through one gateway template: small files by derived CID, the big one by its /ipfs/ line', async () => {
  const lines = [...files].sort((a, b) => (a.path < b.path ? -1 : 1)).map((f) => `${f.sha256}  ${f.path}`);
  const cids = files.filter((f) => f.recorded).map((f) => `${f.sha256}  /ipfs/${f.cid}`);
  const lockfile = join(work, 'SHA256SUMS');
  await writeFile(lockfile, `# distro: debian 12 (bookworm) amd64\n${[...lines, ...cids].join('\n')}\n`);
  const out = join(work, 'out');
  const res = await runCli(['download', lockfile, '-o', out, '--cache', join(work, 'cache'), '--provider', `${gateway.url}/ipfs/{{.CID}}`]);
  assert.equal(res.code, 0, res.stderr);
  for (const f of files) assert.deepEqual(await readFile(join(out, f.path)), f.data, f.path);
  assert.deepEqual(gateway.requests.filter((r) => r.startsWith('ipfs/')).sort(), files.map((f) => `ipfs/${f.cid}`).sort());
});
