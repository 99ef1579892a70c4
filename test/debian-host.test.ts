/**
 * generate on this machine's own root '/' (a Debian machine that ran apt-get update, as CI's setup does):
 * every installed package apt can place in a Packages list gets that list's hash and path, and three of the
 * files downloaded from the configured mirror (providers() templates) match their hashes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { debianAdapter } from '../distros/debian/index.js';
import { run } from '../src/exec.js';
import { silentLogger } from '../src/ui/log.js';

test("generate on '/' matches apt-cache's view of the installed packages; mirror files match", async () => {
  const info = await debianAdapter.detect('/');
  assert.ok(info, 'this machine is Debian-like');
  const q = await run('dpkg-query', ['-W', '-f', '${Package}\t${Version}\t${Architecture}\t${db:Status-Status}\n']);
  const installed = q.stdout.split('\n').filter((l) => l.endsWith('\tinstalled')).map((l) => l.split('\t'));
  // The reference: apt-cache's records of exactly the installed versions that come from a list (have a Filename).
  const shown = await run('apt-cache', ['show', ...installed.map(([n, v, a]) => `${n}:${a}=${v}`)]);
  const expected = new Map<string, string>();
  const names = new Set<string>();
  for (const para of shown.stdout.split('\n\n')) {
    const f = (k: string) => new RegExp(`^${k}: (.*)$`, 'm').exec(para)?.[1];
    const [name, filename, sha] = [f('Package'), f('Filename'), f('SHA256')];
    if (name && filename && sha) {
      expected.set(filename, sha);
      names.add(name);
    }
  }
  assert.ok(expected.size > 50, `apt-cache knows ${expected.size} installed packages; did apt-get update run?`);
  const res = await debianAdapter.generate('/', info, { log: silentLogger, only: [...names] });
  const got = new Map(res.entries.map((e) => [e.path, e.sha256]));
  assert.deepEqual(got, expected);
  assert.match(res.headers.distro, /^debian \S+ \(\w+\) \w+$/);
  assert.match(res.headers.snapshot ?? process.env.SOURCE_DATE_EPOCH ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$|^\d+$/);

  const providers = await debianAdapter.providers('/', info, res.headers);
  assert.ok(providers.length > 0);
  const small = res.entries.filter((e) => e.path.includes('/')).slice(0, 200);
  let checked = 0;
  for (const e of small) {
    if (checked === 3) break;
    for (const p of providers) {
      const r = await fetch(p.template.replace('{{.Name}}', e.path)).catch(() => undefined);
      if (!r?.ok) continue;
      const body = Buffer.from(await r.arrayBuffer());
      if (body.length > 5_000_000) continue;
      assert.equal(createHash('sha256').update(body).digest('hex'), e.sha256, `${p.template} ${e.path}`);
      checked++;
      break;
    }
  }
  assert.equal(checked, 3, 'three files downloaded from the configured mirrors');
});
