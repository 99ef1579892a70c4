/**
 * Help examples that can be copied: the description as a shell comment on its own line, then the command,
 * folded with ` \` continuations at spaces (never inside quotes) to the help's width, so the terminal never
 * breaks a command in the middle.
 */

/** The width yargs wraps help to (main.ts): the terminal's, at most 110; 100 for a pipe. */
export function helpWidth(): number {
  return Math.min(110, process.stdout.columns || 100);
}

/** The command's words, a quoted string being one word. */
function words(cmd: string): string[] {
  return cmd.match(/(?:"[^"]*"|'[^']*'|\S)+/g) ?? [];
}

/** Lines of at most `width` characters (a longer word keeps a line of its own), each after `prefix`, joined by `join`. */
function fold(wordList: string[], width: number, prefix: string, join: string): string {
  const lines: string[] = [];
  let line = '';
  for (const w of wordList) {
    if (line && prefix.length + line.length + 1 + w.length + join.length > width) {
      lines.push(prefix + line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  lines.push(prefix + line);
  return lines.join(`${join}\n`);
}

/** A command in lines of at most `width` characters, continued with ` \` (help text keeps no indent). */
export function foldCommand(cmd: string, width: number): string {
  return fold(words(cmd), width, '', ' \\');
}

/** yargs examples for `.example(...)`: `# what it does` (each line a comment), then the command. */
export function example(cmd: string, what: string): [string, string][] {
  // yargs pads an example 2 columns on each side; the command's first word ($0) grows by the script name's length
  const width = helpWidth() - 4;
  return [[fold(what.split(' '), width, '# ', ''), ''], [foldCommand(cmd, width - ('pinget'.length - '$0'.length)), '']];
}
