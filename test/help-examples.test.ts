/** Help examples can be copied whatever the terminal's width: no line wider than the help, a command is only ever continued with ` \`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from './helpers/cli.js';
import { foldCommand } from '../src/commands/help-examples.js';

const columns = (n: number) => `data:text/javascript,Object.defineProperty(process.stdout,'columns',{value:${n}})`;

test('foldCommand breaks only between words, never inside quotes, and joins back to the command', () => {
  const cmd = 'pinget diff old new --format markdown --title "SHA256SUMS arm64 image" > comment.md';
  for (const width of [20, 30, 46, 80, 200]) {
    const folded = foldCommand(cmd, width);
    // a line is longer than the width only when it is one word (a quoted one counts as one)
    for (const line of folded.split('\n')) assert.ok(line.length <= width || !/ /.test(line.replace(/ \\$/, '').replace(/"[^"]*"/g, 'q')), `${width}: ${line}`);
    assert.equal(folded.replace(/ \\\n/g, ' '), cmd);
    assert.ok(folded.split('\n').some((l) => l.includes('"SHA256SUMS arm64 image"')), 'a quoted word stays whole');
  }
});

for (const argv of [['--help'], ['install', '--help'], ['hash', 'generate', '--help'], ['diff', '--help'], ['download', '--help'], ['lock', '--help']]) {
  test(`pinget ${argv.join(' ')}: examples fit 50 and 80 columns and every command can be copied`, async () => {
    for (const width of [50, 80]) {
      const res = await runCli(argv, { env: { NODE_OPTIONS: `--import=${columns(width)}`, PINGET_NO_FAST_HELP: '1' } });
      assert.equal(res.code, 0, res.stderr);
      const section = res.stdout.split('\nExamples:\n')[1]?.split('\n\n')[0];
      assert.ok(section, `no Examples section:\n${res.stdout}`);
      const lines = section.split('\n').filter((l) => l.trim());
      for (const l of lines) assert.ok(l.length <= width, `${width}: ${l.length}: ${l}`);
      // a command line follows a comment or a continued line; nothing else
      let continued = false;
      let commands = 0;
      for (const l of lines.map((x) => x.slice(2))) {
        if (!continued && l.startsWith('# ')) continue;
        if (!continued) {
          assert.match(l, /^pinget /, `${width}: not a command: ${l}`);
          commands++;
        }
        continued = l.endsWith(' \\');
      }
      assert.ok(commands >= 1);
    }
  });
}
