/**
 * The `ikekm` command. Each subcommand lives in its own module; this file only dispatches.
 * The daemon, control commands (up, down, status, ...), pki, replay and inspect arrive as
 * further entries in `commands`.
 */
import { runSelfCheck } from './selfcheck.js';

interface Command {
  readonly summary: string;
  run(args: readonly string[]): Promise<number> | number;
}

const commands: Record<string, Command> = {
  selfcheck: {
    summary: 'run every known-answer vector and codec check, print a table, exit 1 on any failure (--full: whole citations)',
    run(args) {
      const report = runSelfCheck({ fullSources: args.includes('--full') });
      process.stdout.write(report.text + '\n');
      return report.failed === 0 ? 0 : 1;
    },
  },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  return ['usage: ikekm <command> [options]', '', 'commands:', ...lines].join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (command === undefined) {
    process.stderr.write(`ikekm: unknown command '${name}'\n\n${usage()}\n`);
    return 2;
  }
  return command.run(rest);
}

process.exitCode = await main(process.argv.slice(2));
