/** `ikekm pki …` run in this process: its exit code and the lines it printed and warned. */
import { pkiCommand } from '../../src/cli/pki-command.js';

export interface PkiRun {
  readonly code: number;
  readonly out: string[];
  readonly err: string[];
}

export async function pki(...args: string[]): Promise<PkiRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await pkiCommand(args, { out: (line) => out.push(line), warn: (line) => err.push(line) });
  return { code, out, err };
}
