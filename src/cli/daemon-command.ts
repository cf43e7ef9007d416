/**
 * `ikekm daemon [--config FILE] [--keylog DIR] [--record FILE] [--inspect URL [--inspect-connection NAME]] [--log-level L] [--pretty] [--socket PATH]`: runs
 * the daemon in the foreground (systemd Type=simple). A bad configuration prints its diagnostics
 * and exits 1; SIGHUP reloads the file; SIGTERM and SIGINT delete every SA at its peer, then exit 0.
 */
import { parseArgs } from 'node:util';
import { formatDiagnostic } from '../config/config-diagnostic.js';
import { loadConfigFile } from '../config/load-config.js';
import { Daemon } from '../daemon/daemon.js';
import { applyHeapGrowth } from '../daemon/heap-growth.js';
import { createLogger, type LogLevel } from '../log/logger.js';

export const DEFAULT_CONFIG_FILE = '/etc/ikekm/ikekm.yaml';

export const DAEMON_USAGE =
  'usage: ikekm daemon [--config FILE] [--keylog DIR] [--record FILE] [--inspect ws://HOST:PORT [--inspect-connection NAME]] [--log-level trace|debug|info|warn|error] [--pretty] [--socket PATH]';

export async function daemonCommand(args: readonly string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        config: { type: 'string', default: DEFAULT_CONFIG_FILE },
        keylog: { type: 'string' },
        record: { type: 'string' },
        inspect: { type: 'string' },
        'inspect-connection': { type: 'string' },
        'log-level': { type: 'string', default: 'info' },
        pretty: { type: 'boolean', default: false },
        socket: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    process.stderr.write(`ikekm daemon: ${(error as Error).message}\n${DAEMON_USAGE}\n`);
    return 2;
  }
  const loaded = await loadConfigFile(values.config);
  if (!loaded.ok) {
    process.stderr.write(`ikekm daemon: ${values.config} is not a valid configuration:\n${loaded.error.map(formatDiagnostic).join('\n')}\n`);
    return 1;
  }
  let logger;
  try {
    logger = createLogger({ level: values['log-level'] as LogLevel, pretty: values.pretty });
  } catch (error) {
    process.stderr.write(`ikekm daemon: ${(error as Error).message}\n${DAEMON_USAGE}\n`);
    return 2;
  }
  const heapFlag = applyHeapGrowth(loaded.value.daemon.heapGrowthPercent);
  if (heapFlag !== undefined) logger.debug({ flag: heapFlag }, 'JavaScript heap growth set (daemon.heapGrowthPercent)');
  let daemon: Daemon;
  try {
    daemon = await Daemon.start({
      config: loaded.value,
      logger,
      ...(values.keylog === undefined ? {} : { keylogDir: values.keylog }),
      ...(values.record === undefined ? {} : { recordFile: values.record }),
      ...(values.inspect === undefined
        ? {}
        : { inspect: { url: values.inspect, ...(values['inspect-connection'] === undefined ? {} : { connection: values['inspect-connection'] }) } }),
      ...(values.socket === undefined ? {} : { controlSocket: values.socket }),
    });
  } catch (error) {
    logger.fatal({ err: error }, 'ikekm daemon could not start');
    process.stderr.write(`ikekm daemon: could not start: ${(error as Error).message}\n`);
    return 1;
  }
  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      logger.info({ signal }, 'signal received: stopping');
      daemon.stop().then(
        () => resolve(0),
        (error: unknown) => {
          logger.error({ err: error }, 'error while stopping');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    process.on('SIGHUP', () => {
      logger.info({ signal: 'SIGHUP' }, 'signal received: reloading the configuration');
      // The outcome is logged by the daemon (configuration reloaded / reload refused).
      daemon.reloadFromFile().catch((error: unknown) => logger.error({ err: error }, 'reload failed; the running configuration stays'));
    });
  });
}
