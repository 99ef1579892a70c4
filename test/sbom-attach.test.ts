/**
 * pinget sbom --attach: the SBOM attached as an OCI referrer by oras to an artifact in a real registry
 * (Debian's docker-registry on 127.0.0.1), found again by `oras discover` and pulled byte for byte; a missing
 * subject is exit 4, a bad reference exit 2 before anything runs, no oras exit 4 with what to install.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, type TestRegistry } from './helpers/registry.js';
import { runCli } from './helpers/cli.js';
import { run } from '../src/exec.js';

let reg: TestRegistry;
let work: string;
let env: NodeJS.ProcessEnv;

async function oras(args: string[], cwd?: string): Promise<string> {
  const res = await run('oras', args, { cwd, env: { ...process.env, ...env } });
  assert.equal(res.code, 0, res.stderr);
  return res.stdout;
}

before(async () => {
  reg = await startRegistry();
  work = await mkdtemp(join(tmpdir(), 'pinget-sbom-attach-'));
  await mkdir(join(work, 'docker'));
  env = { DOCKER_CONFIG: join(work, 'docker') };
  await writeFile(join(work, 'payload.txt'), 'the image the SBOM describes\n');
  await oras(['push', '--plain-http', `${reg.host}/pinget/app:v1`, 'payload.txt'], work);
});

after(async () => {
  await reg?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

for (const format of ['cyclonedx', 'spdx'] as const) {
  test(`sbom --attach (${format}): oras discover finds the referrer and its blob is the SBOM pinget prints`, async () => {
    const type = format === 'spdx' ? 'application/spdx+json' : 'application/vnd.cyclonedx+json';
    const res = await runCli(['sbom', 'SHA256SUMS.example', '--format', format, '--attach', `oci+http://${reg.host}/pinget/app:v1`, '--json'], { env });
    assert.equal(res.code, 0, res.stderr);
    const out = JSON.parse(res.stdout) as { attached: string };
    assert.match(out.attached, /^sha256:[0-9a-f]{64}$/);
    const found = JSON.parse(await oras(['discover', '--plain-http', '--format', 'json', '--artifact-type', type, `${reg.host}/pinget/app:v1`])) as {
      manifests?: { digest: string; artifactType: string }[];
      referrers?: { digest: string; artifactType: string }[];
    };
    const refs = found.manifests ?? found.referrers ?? [];
    assert.deepEqual(refs.map((r) => r.digest), [out.attached]);
    const pulled = join(work, `pulled-${format}`);
    await oras(['pull', '--plain-http', '-o', pulled, `${reg.host}/pinget/app@${out.attached}`]);
    const direct = await runCli(['sbom', 'SHA256SUMS.example', '--format', format]);
    assert.equal(await readFile(join(pulled, format === 'spdx' ? 'sbom.spdx.json' : 'sbom.cdx.json'), 'utf8'), direct.stdout);
  });
}

test('sbom --attach: no such subject is exit 4; a reference without a tag exit 2; no oras exit 4 saying what to install', async () => {
  const missing = await runCli(['sbom', 'SHA256SUMS.example', '--attach', `oci+http://${reg.host}/pinget/app:nope`], { env });
  assert.equal(missing.code, 4, missing.stderr);
  const bad = await runCli(['sbom', 'SHA256SUMS.example', '--attach', `oci+http://${reg.host}/pinget/app`, '-o', join(work, 'not-written.json')], { env });
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /needs a tag/);
  await assert.rejects(readFile(join(work, 'not-written.json')));
  const noOras = await runCli(['sbom', 'SHA256SUMS.example', '--attach', `oci+http://${reg.host}/pinget/app:v1`], { env: { ...env, PINGET_ORAS: join(work, 'no-such-oras') } });
  assert.equal(noOras.code, 4, noOras.stderr);
  assert.match(noOras.stderr, /install the oras CLI/);
});
