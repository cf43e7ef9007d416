/** The `ikekm` command. Each subcommand lives in its own module; this file only dispatches. */
import { demoCommand } from './demo.js';
import { downCommand, reloadCommand, rekeyCommand, statusCommand, upCommand, watchCommand } from './control-commands.js';
import { checkConfigCommand } from './check-config.js';
import { daemonCommand } from './daemon-command.js';
import { runSelfCheck } from './selfcheck.js';

interface Command {
  readonly summary: string;
  run(args: readonly string[]): Promise<number> | number;
}

const commands: Record<string, Command> = {
  daemon: {
    summary: 'run the IKE daemon in the foreground (--config FILE, --keylog DIR, --log-level L, --pretty, --socket PATH)',
    run: (args) => daemonCommand(args),
  },
  up: { summary: 'establish a connection: ikekm up NAME [--socket PATH]', run: (args) => upCommand(args) },
  down: { summary: "delete a connection's SAs at the peer: ikekm down NAME", run: (args) => downCommand(args) },
  rekey: { summary: "rekey a connection's Child SAs, or its IKE SA with --ike: ikekm rekey NAME [--ike]", run: (args) => rekeyCommand(args) },
  reload: { summary: "re-read the daemon's configuration file (as SIGHUP does)", run: (args) => reloadCommand(args) },
  status: { summary: 'IKE SAs and Child SAs as a table, or --json (fields in README "Status JSON")', run: (args) => statusCommand(args) },
  'check-config': { summary: 'validate a configuration file without starting anything: ikekm check-config FILE', run: (args) => checkConfigCommand(args) },
  watch: { summary: 'stream SA events (up, rekeyed, down, with reason) until Ctrl-C; --json for JSON lines', run: (args) => watchCommand(args) },
  demo: {
    summary: 'two ikekm daemons on loopback negotiate and rekey on short lifetimes, shown live (what npm start runs; --help)',
    run: (args) => demoCommand(args),
  },
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
