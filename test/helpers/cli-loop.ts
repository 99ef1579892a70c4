/**
 * Runs the CLI's main over many argument lists in one process (a fuzz run of 1000 child processes is
 * too slow): `node --import tsx test/helpers/cli-loop.ts CASES.json RESULTS.jsonl`, CASES a JSON array
 * of argv arrays. Writes one JSON line per case: { i, code, ms, stderr }; code "timeout" after 5 s.
 * Uses src/main.ts's main(argv) when it exists; until then, a runner of the same commands that maps
 * errors to exit codes as the CLI does.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import yargs from 'yargs';
import { downloadCommand } from '../../src/commands/download.js';
import { EXIT_CODES, isPingetError } from '../../src/errors.js';

type Main = (argv: string[]) => Promise<number>;
const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');
const CASE_TIMEOUT_MS = 5000;

async function fallbackMain(argv: string[]): Promise<number> {
  try {
    let usage: string | undefined;
    await yargs(argv)
      .command(downloadCommand)
      .strict()
      .fail((msg, err) => {
        if (err) throw err;
        usage = msg;
      })
      .parseAsync();
    if (usage) process.stderr.write(`pinget: ${usage}\n`);
    return usage ? EXIT_CODES.USAGE : 0;
  } catch (e) {
    if (isPingetError(e)) {
      process.stderr.write(`pinget: ${e.message}\n${e.details.map((d) => `  ${d}\n`).join('')}`);
      return e.exitCode;
    }
    process.stderr.write(`pinget: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return EXIT_CODES.INTERNAL;
  }
}

const mainFile = join(SRC, 'main.ts');
const main: Main = existsSync(mainFile) ? ((await import(pathToFileURL(mainFile).href)) as { main: Main }).main : fallbackMain;

const [casesFile, resultsFile] = process.argv.slice(2);
const cases = JSON.parse(readFileSync(casesFile, 'utf8')) as string[][];
writeFileSync(resultsFile, '');
const realWrite = process.stderr.write.bind(process.stderr);
let captured = '';
process.stderr.write = ((chunk: string | Uint8Array) => {
  captured += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
  return true;
}) as typeof process.stderr.write;
process.on('uncaughtException', (e) => {
  realWrite(`uncaught exception: ${e.stack ?? e}\n`);
  process.exit(70);
});

for (const [i, argv] of cases.entries()) {
  captured = '';
  process.exitCode = undefined;
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    main(argv),
    new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), CASE_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  appendFileSync(resultsFile, JSON.stringify({ i, code, ms: Date.now() - started, stderr: captured.slice(0, 4000) }) + '\n');
}
process.stderr.write = realWrite;
process.exit(0);
