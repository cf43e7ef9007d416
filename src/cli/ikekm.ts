/**
 * The `ikekm` command. Each subcommand lives in its own module, loaded when it runs: a control
 * command (`ikekm status`) does not load the engine, the crypto and the kernel backends the
 * daemon needs, so it answers in a fraction of the time.
 */
interface Command {
  readonly summary: string;
  run(args: readonly string[]): Promise<number> | number;
}

const commands: Record<string, Command> = {
  daemon: {
    summary: 'run the IKE daemon in the foreground (--config FILE, --keylog DIR, --record FILE, --inspect URL, --log-level L, --pretty, --socket PATH)',
    run: async (args) => (await import('./daemon-command.js')).daemonCommand(args),
  },
  up: { summary: 'establish a connection: ikekm up NAME [--socket PATH]', run: async (args) => (await import('./control-commands.js')).upCommand(args) },
  down: { summary: "delete a connection's SAs at the peer: ikekm down NAME", run: async (args) => (await import('./control-commands.js')).downCommand(args) },
  rekey: { summary: "rekey a connection's Child SAs, or its IKE SA with --ike: ikekm rekey NAME [--ike]", run: async (args) => (await import('./control-commands.js')).rekeyCommand(args) },
  reload: { summary: "re-read the daemon's configuration file (as SIGHUP does)", run: async (args) => (await import('./control-commands.js')).reloadCommand(args) },
  status: { summary: 'IKE SAs and Child SAs as a table, or --json (fields in README "Status JSON")', run: async (args) => (await import('./control-commands.js')).statusCommand(args) },
  'check-config': { summary: 'validate a configuration file without starting anything: ikekm check-config FILE', run: async (args) => (await import('./check-config.js')).checkConfigCommand(args) },
  watch: { summary: 'stream SA events (up, rekeyed, down, with reason) until Ctrl-C; --json for JSON lines', run: async (args) => (await import('./control-commands.js')).watchCommand(args) },
  record: {
    summary: 'record a running daemon from now on: ikekm record start FILE [--connection NAME], ikekm record stop; a shareable copy: ikekm record redact IN OUT',
    run: async (args) => (await import('./record-command.js')).recordCommand(args),
  },
  replay: {
    summary: "run a daemon's record (--record) again and check it: ikekm replay FILE [--config FILE] (the PSKs come from the configuration)",
    run: async (args) => (await import('./replay-command.js')).replayCommand(args),
  },
  inspect: {
    summary: 'a local page that steps through a record or follows the daemon: actors, exchanges, state charts (ikekm inspect [--record FILE | --socket PATH] [--listen HOST:PORT])',
    run: async (args) => (await import('./inspect-command.js')).inspectCommand(args),
  },
  pki: {
    summary: 'a certificate authority for IKE signature authentication: ikekm pki ca create | issue | crl | import | show | verify (--help)',
    run: async (args) => (await import('./pki-command.js')).pkiCommand(args),
  },
  load: {
    summary: 'a load generator for an IKEv2 responder: ikekm load --config FILE --connection NAME [--count N] [--window W] (--help)',
    run: async (args) => (await import('./load-command.js')).loadCommand(args),
  },
  demo: {
    summary: 'two ikekm daemons on loopback negotiate and rekey on short lifetimes, shown live (what npm start runs; --help)',
    run: async (args) => (await import('./demo.js')).demoCommand(args),
  },
  selfcheck: {
    summary: 'run every known-answer vector and codec check, print a table, exit 1 on any failure (--full: whole citations)',
    async run(args) {
      const { runSelfCheck } = await import('./selfcheck.js');
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

/** How a shell reports a command that SIGPIPE ended (128 + 13). */
const EXIT_BROKEN_PIPE = 141;

// `ikekm status --json | head`: the reader left. End as a tool that SIGPIPE ends would, not with
// a stack trace of the write that found the pipe closed.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(EXIT_BROKEN_PIPE);
});

process.exitCode = await main(process.argv.slice(2));
