/**
 * `lock` figures: warm (indexes cached) against `apt-get install -s` of the same names over the same lists (the
 * plain indexes pinget cached, apt's own caches kept between rounds as apt keeps them), and cold (an empty cache)
 * against `apt-get update` + `apt-get install -s` into a fresh scratch configuration of this machine's sources.
 * The base is this machine (`--root /`); the peak memory is pinget's own process.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { comparePair, timeProcess, type Cmd, type Figure } from './measure.js';

const NAMES = ['hello', 'curl', 'make'];

/** A scratch apt configuration over `lists` (or an empty lists dir to update into), this machine's status and sources. */
async function aptScratch(dir: string, arch: string): Promise<NodeJS.ProcessEnv> {
  for (const d of ['lists/partial', 'cache/archives/partial', 'state', 'log', 'empty']) await mkdir(join(dir, d), { recursive: true });
  const conf = join(dir, 'apt.conf');
  await writeFile(
    conf,
    [
      `Dir::State "${dir}/state/";`,
      `Dir::State::lists "${dir}/lists/";`,
      'Dir::State::status "/var/lib/dpkg/status";',
      `Dir::Cache "${dir}/cache/";`,
      `Dir::Etc::parts "${dir}/empty/";`,
      `Dir::Log "${dir}/log/";`,
      `APT::Architecture "${arch}";`,
      'Debug::NoLocking "true";',
      'APT::Sandbox::User "root";',
      'Acquire::Languages "none";',
      '',
    ].join('\n'),
  );
  return { ...process.env, APT_CONFIG: conf };
}

export async function lockFigures(o: { work: string; rounds: number; pinget: (args: string[], extra?: Partial<Cmd>) => Cmd; pingetEach: (args: () => string[], before: () => Promise<void>) => Cmd }): Promise<Figure[]> {
  const what = `lock ${NAMES.join(' ')} --root / (this machine)`;
  const arch = spawnSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).stdout?.trim();
  if (!arch || !existsSync('/var/lib/dpkg/status')) return [{ what, maxRatio: 1.5, skipped: 'not a Debian/Ubuntu host' }];
  const warmCache = join(o.work, 'lock-cache-warm');
  await timeProcess(o.pinget(['lock', ...NAMES, '--cache', warmCache, '-o', join(o.work, 'lock-warm')]));

  // The reference reads the same indexes (apt-get update's copies, fetched once here), its caches kept between rounds.
  const ref = join(o.work, 'apt-warm');
  const env = await aptScratch(ref, arch);
  const coldEnv = await aptScratch(join(o.work, 'apt-cold'), arch);
  const updated = spawnSync('apt-get', ['update', '-qq'], { env, encoding: 'utf8' });
  if (updated.status !== 0) throw new Error(`apt-get update: ${updated.stderr}`);
  const warmPair = await comparePair(
    o.pinget(['lock', ...NAMES, '--cache', warmCache, '-o', join(o.work, 'lock-warm')]),
    { argv: ['apt-get', 'install', '-s', '-qq', ...NAMES], env },
    o.rounds,
  );

  let coldCache = '';
  const coldLock = o.pingetEach(
    () => ['lock', ...NAMES, '--cache', coldCache, '-o', join(o.work, 'lock-cold')],
    async () => {
      coldCache = join(o.work, 'lock-cache-cold');
      await rm(coldCache, { recursive: true, force: true });
    },
  );
  const coldRef: Cmd = {
    argv: ['sh', '-c', 'apt-get update -qq && apt-get install -s -qq "$@" > /dev/null', 'sh', ...NAMES],
    env: coldEnv,
    before: async () => {
      await rm(join(o.work, 'apt-cold'), { recursive: true, force: true });
      await aptScratch(join(o.work, 'apt-cold'), arch);
    },
  };
  const coldPair = await comparePair(coldLock, coldRef, o.rounds);
  return [
    { what: `${what}, indexes cached, vs apt-get install -s over the same lists`, pair: warmPair, maxRatio: 1.5, maxRssMiB: 300 },
    { what: `${what}, empty cache, vs apt-get update + apt-get install -s into a scratch config`, pair: coldPair, maxRatio: 1.2, maxRssMiB: 300 },
  ];
}
