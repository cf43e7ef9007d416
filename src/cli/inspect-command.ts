/**
 * `ikekm inspect [--record FILE | --socket PATH] [--listen HOST:PORT]`: serves the inspector page
 * (visualizations/inspector/, src/inspector/inspector-server.ts) on loopback and prints its
 * address. With `--record`, the page steps through a record (`ikekm daemon --record`); otherwise
 * it follows the daemon at the control socket (default /run/ikekm/ikekm.sock) live. Runs until
 * Ctrl-C. Exit 2 on a usage error, 1 when the record cannot be read or the daemon not reached.
 */
import { parseArgs } from 'node:util';
import { controlWatchJournal } from '../control/control-client.js';
import { DEFAULT_DAEMON_SETTINGS } from '../config/daemon-settings.js';
import type { InspectorFeed } from '../inspector/inspector-feed.js';
import { startInspectorServer } from '../inspector/inspector-server.js';
import { followDaemon } from '../inspector/live-feed.js';
import { recordFeed } from '../inspector/record-feed.js';

export const INSPECT_USAGE = 'usage: ikekm inspect [--record FILE | --socket PATH] [--listen HOST:PORT] (default 127.0.0.1:8484)';

/** The page's default address: loopback, a port of its own. */
const DEFAULT_LISTEN = '127.0.0.1:8484';

/**
 * `until`: when to stop (Ctrl-C, SIGTERM; a test's promise). `onListening`: told the page's
 * address once it is served (a test opens it).
 */
export async function inspectCommand(args: readonly string[], until: Promise<void> = interrupted(), onListening?: (url: string) => void): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: { record: { type: 'string' }, socket: { type: 'string' }, listen: { type: 'string', default: DEFAULT_LISTEN } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    process.stderr.write(`ikekm inspect: ${(error as Error).message}\n${INSPECT_USAGE}\n`);
    return 2;
  }
  if (values.record !== undefined && values.socket !== undefined) {
    process.stderr.write(`ikekm inspect: a record or a daemon, not both\n${INSPECT_USAGE}\n`);
    return 2;
  }
  const listen = parseListen(values.listen);
  if (listen === undefined) {
    process.stderr.write(`ikekm inspect: --listen ${values.listen}: expected HOST:PORT, e.g. 127.0.0.1:8484\n${INSPECT_USAGE}\n`);
    return 2;
  }
  let feed: InspectorFeed;
  let stopFeed = (): void => undefined;
  try {
    if (values.record !== undefined) {
      feed = await recordFeed(values.record);
    } else {
      const live = await followDaemon(values.socket ?? DEFAULT_DAEMON_SETTINGS.control, controlWatchJournal);
      feed = live.feed;
      stopFeed = live.stop;
    }
  } catch (error) {
    process.stderr.write(`ikekm inspect: ${(error as Error).message}\n`);
    return 1;
  }
  let server;
  try {
    server = await startInspectorServer(feed, listen);
  } catch (error) {
    stopFeed();
    process.stderr.write(`ikekm inspect: cannot listen on ${values.listen}: ${(error as Error).message}\n`);
    return 1;
  }
  const what = values.record !== undefined ? `the record ${values.record} (${feed.ended ?? ''})` : `the daemon at ${feed.source.name}, live`;
  process.stdout.write(`ikekm inspect: open ${server.url} to step through ${what}; Ctrl-C to stop\n`);
  onListening?.(server.url);
  await until;
  stopFeed();
  await server.close();
  return 0;
}

function parseListen(text: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9a-fA-F:]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2];
  if (host === undefined || !Number.isInteger(port) || port > 65535) return undefined;
  return { host, port };
}

function interrupted(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
