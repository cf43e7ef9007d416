/**
 * `ikekm up|down|rekey|reload|status|watch`: clients of the daemon's control socket
 * (`--socket PATH`, default the `daemon.control` default /run/ikekm/ikekm.sock). Exit 0 on
 * success, 1 when the daemon refused or is not running (with a message saying which), 2 on usage
 * errors.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_DAEMON_SETTINGS } from '../config/daemon-settings.js';
import { controlRequest, controlRequestIndented, controlWatch } from '../control/control-client.js';
import type { DaemonStatus } from '../control/daemon-status.js';
import { renderStatusTable } from '../control/status-table.js';
import { formatEvent } from './format-event.js';

interface Parsed {
  readonly socket: string;
  readonly positionals: readonly string[];
  readonly flags: Readonly<Record<string, boolean>>;
}

function parse(command: string, args: readonly string[], flags: readonly string[], positionals: number, usage: string): Parsed | string {
  try {
    const { values, positionals: rest } = parseArgs({
      args: [...args],
      options: {
        socket: { type: 'string', default: DEFAULT_DAEMON_SETTINGS.control },
        ...Object.fromEntries(flags.map((f) => [f, { type: 'boolean' as const, default: false }])),
      },
      strict: true,
      allowPositionals: true,
    });
    if (rest.length !== positionals) return `ikekm ${command}: expected ${positionals === 0 ? 'no arguments' : 'a connection name'}\n${usage}`;
    const flagValues = Object.fromEntries(flags.map((f) => [f, (values as Record<string, unknown>)[f] === true]));
    return { socket: String(values.socket), positionals: rest, flags: flagValues };
  } catch (error) {
    return `ikekm ${command}: ${(error as Error).message}\n${usage}`;
  }
}

function fail(command: string, error: unknown): number {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`ikekm ${command}: ${message}\n`);
  return 1;
}

const print = (text: string): void => void process.stdout.write(`${text}\n`);

type Run = (args: readonly string[]) => Promise<number>;

function simple(command: 'up' | 'down' | 'reload', usage: string, describe: (result: unknown) => string): Run {
  return async (args) => {
    const parsed = parse(command, args, [], command === 'reload' ? 0 : 1, usage);
    if (typeof parsed === 'string') return (process.stderr.write(`${parsed}\n`), 2);
    try {
      const body = command === 'reload' ? { cmd: command } : { cmd: command, name: parsed.positionals[0] ?? '' };
      print(describe(await controlRequest(parsed.socket, body)));
      return 0;
    } catch (error) {
      return fail(command, error);
    }
  };
}

export const upCommand = simple('up', 'usage: ikekm up NAME [--socket PATH]', (r) => {
  const result = r as { connection: string; alreadyUp: boolean; ikeSa: { spiI: string; spiR: string }; childSa?: { spiIn: string; spiOut: string } };
  const child = result.childSa === undefined ? '' : `, Child SA ${result.childSa.spiIn}_i ${result.childSa.spiOut}_o`;
  return `${result.connection} ${result.alreadyUp ? 'was already up' : 'up'}: IKE SA ${result.ikeSa.spiI}_i ${result.ikeSa.spiR}_r${child}`;
});

export const downCommand = simple('down', 'usage: ikekm down NAME [--socket PATH]', (r) => {
  const result = r as { connection: string; deleted: number };
  return result.deleted === 0 ? `${result.connection} was not up` : `${result.connection} down: ${result.deleted} IKE SA(s) deleted at the peer`;
});

export const reloadCommand = simple('reload', 'usage: ikekm reload [--socket PATH]', (r) => {
  const diff = r as { added: string[]; removed: string[]; changed: string[]; unchanged: string[] };
  const list = (names: readonly string[]): string => (names.length === 0 ? '-' : names.join(', '));
  return `configuration reloaded: added ${list(diff.added)}; removed ${list(diff.removed)}; changed ${list(diff.changed)}; unchanged ${list(diff.unchanged)}`;
});

export const rekeyCommand: Run = async (args) => {
  const parsed = parse('rekey', args, ['ike'], 1, 'usage: ikekm rekey NAME [--ike] [--socket PATH]');
  if (typeof parsed === 'string') return (process.stderr.write(`${parsed}\n`), 2);
  try {
    const result = (await controlRequest(parsed.socket, { cmd: 'rekey', name: parsed.positionals[0] ?? '', ike: parsed.flags.ike === true })) as {
      connection: string;
      kind: 'ike' | 'child';
      ikeSa: { spiI: string; spiR: string };
      childSa?: { spiIn: string; spiOut: string };
    };
    print(
      result.kind === 'ike'
        ? `${result.connection}: IKE SA rekeyed, now ${result.ikeSa.spiI}_i ${result.ikeSa.spiR}_r`
        : `${result.connection}: Child SA rekeyed, now ${result.childSa?.spiIn ?? '?'}_i ${result.childSa?.spiOut ?? '?'}_o`,
    );
    return 0;
  } catch (error) {
    return fail('rekey', error);
  }
};

export const statusCommand: Run = async (args) => {
  const parsed = parse('status', args, ['json'], 0, 'usage: ikekm status [--json] [--socket PATH]');
  if (typeof parsed === 'string') return (process.stderr.write(`${parsed}\n`), 2);
  try {
    if (parsed.flags.json) {
      // Written as it arrives, re-indented without parsing (a status of 100 000 SAs is 60 MiB).
      await controlRequestIndented(parsed.socket, { cmd: 'status' }, (text) => process.stdout.write(text));
      process.stdout.write('\n');
      return 0;
    }
    const status = (await controlRequest(parsed.socket, { cmd: 'status' })) as DaemonStatus;
    print(renderStatusTable(status));
    return 0;
  } catch (error) {
    return fail('status', error);
  }
};

export const watchCommand: Run = async (args) => {
  const parsed = parse('watch', args, ['json'], 0, 'usage: ikekm watch [--json] [--socket PATH]');
  if (typeof parsed === 'string') return (process.stderr.write(`${parsed}\n`), 2);
  try {
    const watch = await controlWatch(parsed.socket, (event) => print(parsed.flags.json ? JSON.stringify(event) : formatEvent(event)));
    const close = (): void => watch.close();
    process.once('SIGINT', close);
    process.once('SIGTERM', close);
    const end = await watch.ended;
    // The daemon dropped this watcher (it read too slowly) or the connection broke: say so.
    if (end.reason !== undefined) return fail('watch', new Error(`the stream ended: ${end.reason}`));
    return 0;
  } catch (error) {
    return fail('watch', error);
  }
};
