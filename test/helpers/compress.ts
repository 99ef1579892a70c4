/** Compressed fixtures made by the real command-line tools, for the decompressor tests. */
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../src/exec.js';

/** A tool, its options and the extension it writes: `['xz', ['-k'], '.xz']`. */
export type PackTool = [cmd: string, args: string[], ext: string];

export interface Packed {
  cmd: string;
  args: string[];
  ext: string;
  packed: Buffer;
}

/** Writes `plain` to DIR/P and compresses it with each tool in turn (into DIR/P<ext>); returns the compressed bytes. */
export async function packWithRealTools(dir: string, plain: Buffer, tools: PackTool[]): Promise<Packed[]> {
  await writeFile(join(dir, 'P'), plain);
  const out: Packed[] = [];
  for (const [cmd, args, ext] of tools) {
    await rm(join(dir, `P${ext}`), { force: true });
    // lz4 takes its output name as a second argument; the others write P<ext> beside P with -k.
    const res = await run(cmd, [...args, join(dir, 'P'), ...(cmd === 'lz4' ? [join(dir, 'P.lz4')] : [])]);
    assert.equal(res.code, 0, res.stderr);
    out.push({ cmd, args, ext, packed: await readFile(join(dir, `P${ext}`)) });
  }
  return out;
}
