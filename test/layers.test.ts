/**
 * The layers hold (README and docs/architecture.md): CLI -> commands -> core <- distros. dependency-cruiser reads the real
 * import graph (type-only imports included) with the rules of .dependency-cruiser.cjs: no circle, no import from
 * src/ into distros/ but the composition point, no adapter reaching into another. And no module grows past ~400 lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { REPO_ROOT } from './helpers/cli.js';

const exec = promisify(execFile);
const CRUISER = join(REPO_ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruiser.mjs');
const CONFIG = join(REPO_ROOT, '.dependency-cruiser.cjs');

interface Report {
  modules: { source: string; dependencies: { resolved: string }[] }[];
  summary: { violations: { rule: { name: string }; from: string; to: string }[]; totalCruised: number };
}

/** dependency-cruiser over `dirs` of `cwd`, as JSON (it exits non-zero on violations: the report is read all the same). */
async function cruise(cwd: string, dirs: string[]): Promise<Report> {
  const argv = [CRUISER, '--config', CONFIG, '--output-type', 'json', ...dirs];
  const { stdout } = await exec(process.execPath, argv, { cwd, maxBuffer: 64 << 20 }).catch((e: { stdout: string }) => e);
  return JSON.parse(stdout) as Report;
}

test('import graph: no circle, the core never imports a distro but through the composition point', async () => {
  const report = await cruise(REPO_ROOT, ['src', 'distros']);
  assert.ok(report.summary.totalCruised > 150, `cruised ${report.summary.totalCruised} modules: the graph was not read`);
  assert.deepEqual(report.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`), []);
  // The composition point is real: it is the one src/ module that reaches distros/.
  const reaching = report.modules.filter((m) => m.source.startsWith('src/') && m.dependencies.some((d) => d.resolved.startsWith('distros/'))).map((m) => m.source);
  assert.deepEqual(reaching, ['src/distro-registry.ts']);
});

test('the rules bite: a core module importing a distro, and a circle, are reported', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-layers-'));
  try {
    await mkdir(join(dir, 'src'));
    await mkdir(join(dir, 'distros'));
    await writeFile(join(dir, 'src', 'core.ts'), "import { y } from '../distros/adapter.js';\nexport const x = y;\n");
    await writeFile(join(dir, 'distros', 'adapter.ts'), "import { x } from '../src/core.js';\nexport const y = 1;\nexport const z = x;\n");
    await writeFile(join(dir, 'tsconfig.json'), '{}');
    const rules = new Set((await cruise(dir, ['src', 'distros'])).summary.violations.map((v) => v.rule.name));
    assert.ok(rules.has('core-never-imports-distros'), [...rules].join(', '));
    assert.ok(rules.has('no-circular'), [...rules].join(', '));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('no module of src/ or distros/ is over 400 lines', async () => {
  const { stdout } = await exec('git', ['ls-files', '--cached', '--others', '--exclude-standard', 'src/*.ts', 'distros/*.ts'], { cwd: REPO_ROOT });
  const long: string[] = [];
  for (const f of stdout.split('\n').filter(Boolean)) {
    const text = await readFile(join(REPO_ROOT, f), 'utf8').catch(() => '');
    const lines = text.split('\n').length;
    if (lines > 400) long.push(`${f}: ${lines}`);
  }
  assert.deepEqual(long, []);
});
