/**
 * `ikekm check-config FILE`: validates a configuration without starting anything, the way an
 * operator checks a file before `ikekm reload`. Prints every diagnostic (errors and warnings,
 * in file order, "FILE:LINE:COL: severity: path: message"), then a summary line.
 * Exit 0 when the file is valid (warnings allowed), 1 when it has errors, 2 on a usage error.
 * The file and its PSK files are read as the daemon reads them (regular files, size limits).
 */
import { formatDiagnostic, printable } from '../config/config-diagnostic.js';
import { loadConfigFile } from '../config/load-config.js';

export const CHECK_CONFIG_USAGE = 'usage: ikekm check-config FILE';

export interface CheckConfigOutput {
  out(line: string): void;
  err(line: string): void;
}

const processOutput: CheckConfigOutput = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};

export async function checkConfigCommand(args: readonly string[], io: CheckConfigOutput = processOutput): Promise<number> {
  if (args.length === 1 && (args[0] === '--help' || args[0] === '-h')) {
    io.out(CHECK_CONFIG_USAGE);
    return 0;
  }
  const [file, ...rest] = args;
  if (file === undefined || rest.length > 0 || file.startsWith('-')) {
    io.err(CHECK_CONFIG_USAGE);
    return 2;
  }
  const result = await loadConfigFile(file);
  const diagnostics = result.ok ? result.value.warnings : result.error;
  for (const d of diagnostics) io.out(formatDiagnostic(d));
  if (result.ok) {
    const n = result.value.engine.connections.length;
    io.out(`${printable(file)}: ok (${n} connection${n === 1 ? '' : 's'})`);
    return 0;
  }
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  io.out(`${printable(file)}: ${errors} error${errors === 1 ? '' : 's'}`);
  return 1;
}
