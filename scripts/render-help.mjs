#!/usr/bin/env node
/**
 * Renders the outputs src/fast-help.ts prints (`--help`, `-h`, `--version`, `-V` at each wrap width) by
 * running the built pinget ENTRY with yargs (PINGET_NO_FAST_HELP=1), and writes them as JSON to OUT.
 *
 *   node scripts/render-help.mjs ENTRY OUT
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const FORMS = ['--help', '-h', '--version', '-V'];
const WIDTHS = [100, 110];
const [entry, out] = process.argv.slice(2);
if (!entry || !out) {
  process.stderr.write('usage: render-help.mjs ENTRY OUT\n');
  process.exit(2);
}
const outputs = {};
for (const width of WIDTHS) {
  outputs[width] = {};
  for (const form of FORMS) {
    // stdout is a pipe here (no columns: main.ts's width 100); the wider one is a terminal's columns, set before pinget loads.
    const columns = width === 100 ? [] : ['--import', `data:text/javascript,Object.defineProperty(process.stdout,'columns',{value:${width}})`];
    const env = { ...process.env, PINGET_NO_FAST_HELP: '1', LC_ALL: 'en_US.UTF-8' };
    delete env.YARGS_DISABLE_WRAP;
    const r = spawnSync(process.execPath, [...columns, entry, form], { env, encoding: 'utf8' });
    if (r.status !== 0 || r.stderr) {
      process.stderr.write(`render-help: ${entry} ${form} (width ${width}) exited ${r.status}: ${r.stderr}\n`);
      process.exit(1);
    }
    outputs[width][form] = r.stdout;
  }
}
writeFileSync(out, JSON.stringify(outputs));
