#!/usr/bin/env node
/**
 * npm's `prepare` (it runs on `npm install` in a clone, and on `npm install -g` of a clone or a git URL):
 * builds dist/ with tsc. A global install of a folder does not install devDependencies, so when TypeScript
 * is missing this uses an existing dist/ as it is, or else installs the locked devDependencies into this
 * package's own node_modules (npm ci's versions, from package-lock.json) and builds. Prints one line.
 *
 * `npm install -g git+URL` prepares the clone with an inner `npm install` (pacote's). Before npm 12.2.2
 * (pacote 22.0.1, npm/pacote#494) that inner install inherits the outer `--global`: it links the temporary
 * clone into the global folder, over what the outer npm is extracting there, and npm reports success with a
 * link into a deleted directory. That case is refused here, in one line saying what works instead.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

if (process.env._PACOTE_NO_PREPARE_ && process.env.npm_config_global === 'true') {
  const version = process.env.npm_config_npm_version ?? 'this npm';
  process.stderr.write(
    `pinget prepare: npm ${version} cannot install a git URL globally (npm/cli#9406: it installs into a temporary clone it then deletes); use npm >= 12.2.2, or npm install -g a clone or the tarball of npm pack\n`,
  );
  process.exit(1);
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];

const haveTsc = () => {
  try {
    createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
    return true;
  } catch {
    return false;
  }
};

// the outer `npm install -g` passes its settings down (global, prefix, omit=dev): this install is local and whole
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_(global|location|prefix|omit|include|production)$/i.test(k)));

function run(cmd, args) {
  const res = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (res.status !== 0) process.exit(res.status ?? 1);
}

if (!haveTsc()) {
  if (existsSync(join(root, 'dist', 'src', 'cli.js'))) {
    process.stderr.write('pinget prepare: TypeScript is not installed; using the dist/ already built\n');
    process.exit(0);
  }
  process.stderr.write('pinget prepare: TypeScript is not installed and dist/ is not built: installing the locked devDependencies to build it\n');
  run(npm[0], [...npm.slice(1), 'install', '--include=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--no-save']);
}
run(npm[0], [...npm.slice(1), 'run', 'build']);
