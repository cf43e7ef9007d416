/**
 * Runs an `ikekm` subcommand in this process (its exported function, as src/cli/ikekm.ts calls
 * it) and keeps what it printed on stdout and stderr, for the tests of the commands' output.
 */
export async function commandOutput(run: () => Promise<number>): Promise<{ code: number; out: string }> {
  let out = '';
  const keep = ((chunk: string | Uint8Array): boolean => {
    out += chunk.toString();
    return true;
  }) as typeof process.stdout.write;
  const [stdout, stderr] = [process.stdout.write, process.stderr.write];
  process.stdout.write = keep;
  process.stderr.write = keep;
  try {
    return { code: await run(), out };
  } finally {
    process.stdout.write = stdout;
    process.stderr.write = stderr;
  }
}
