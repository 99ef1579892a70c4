/**
 * `--sources` where the distro publishes no source packages pinget could pin (Arch Linux, Alpine): exit 2 before
 * any work, one line saying what exists instead, and no file written.
 */
import { after, before, test } from 'node:test';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { assertRefused } from './helpers/refused.js';

let work: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pinget-sources-unsupported-'));
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

async function rootOf(id: string): Promise<string> {
  const root = join(work, id);
  await mkdir(join(root, 'etc'), { recursive: true });
  await writeFile(join(root, 'etc', 'os-release'), `ID=${id}\n`);
  return root;
}

test('hash generate --sources and lock --sources on Arch and Alpine: exit 2, what exists instead, nothing written', async () => {
  const cases: [string, RegExp][] = [
    ['arch', /--sources: Arch Linux's repositories and the Arch Linux Archive hold binary packages .* no source packages to pin .*PKGBUILD/],
    ['alpine', /--sources: Alpine and Wolfi publish no source packages.*APKBUILD is in the aports git repository/],
  ];
  for (const [id, reason] of cases) {
    const root = await rootOf(id);
    const out = join(work, `never-${id}`);
    assertRefused(await runCli(['hash', 'generate', '--sources', '--root', root, '-o', out, '--cache', join(work, 'cache')]), `hash generate ${id}`, reason, out);
  }
  // lock resolves for Arch (pacman) and Alpine (apk): --sources is refused there before anything is fetched
  const arch = await rootOf('arch');
  const out = join(work, 'never-lock');
  assertRefused(await runCli(['lock', 'pacman', '--sources', '--root', arch, '-o', out, '--cache', join(work, 'cache')]), 'lock arch', /--sources: Arch Linux's repositories .* no source packages to pin/, out);
  assertRefused(await runCli(['lock', 'busybox', '--sources', '--root', await rootOf('alpine'), '-o', out, '--cache', join(work, 'cache')]), 'lock alpine', /--sources: Alpine and Wolfi publish no source packages/, out);
});
