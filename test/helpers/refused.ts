/** The shape every refused request must have: exit 2, one line (detail lines indented) saying why, no stack, no file. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { CliResult } from './cli.js';

export function assertRefused(res: CliResult, what: string, reason: RegExp, notWritten: string): void {
  assert.equal(res.code, 2, `${what}: ${res.stderr}`);
  const lines = res.stderr.trim().split('\n').filter((l) => !l.startsWith('  '));
  assert.equal(lines.length, 1, `${what}: one line, got:\n${res.stderr}`);
  assert.match(lines[0], reason, what);
  assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(existsSync(notWritten), false, `${what} wrote ${notWritten}`);
}
