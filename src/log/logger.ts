/**
 * The ikekm logger: pino, with two independent guards so that no secret reaches a log line.
 *
 * 1. pino `redact` on every secret field name (secret-fields.ts) at depths 0 to 2, so
 *    `{ psk }`, `{ cfg: { psk } }` and `{ peers: [{ psk }] }` print `[Redacted]`.
 * 2. `formatters.log` / `formatters.bindings` pass every record through `toLogSafe`, which turns
 *    any binary value into `[N octets]` and catches the secret names at any depth.
 *
 * What neither guard can do: recognise a secret by its value. A PSK logged as a string under an
 * unlisted name (`{ passphrase: 'correct horse…' }`) or inside the message text IS written. The
 * rule for engine code: secrets only under the listed names; SPIs as hex strings under
 * `spiI`/`spiR`/`spi`; never interpolate a value into the message.
 *
 * The returned pino Logger satisfies `LogPort` (src/ports.ts) structurally.
 */
import pino, { type DestinationStream, type Level, type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { toLogSafeRecord } from './log-safe.js';
import { REDACTED, secretRedactPaths } from './secret-fields.js';

export type LogLevel = Level | 'silent';
export type { Logger };

export interface CreateLoggerOptions {
  /** Default 'info'. */
  readonly level?: LogLevel;
  /** Human-readable lines through pino-pretty instead of JSON lines. Default false. */
  readonly pretty?: boolean;
  /**
   * Where lines go: a stream (anything with `write(line)`), a file path (appended), or a file
   * descriptor. Default: standard output.
   */
  readonly destination?: DestinationStream | string | number;
}

const LEVELS: ReadonlySet<string> = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  if (!LEVELS.has(level)) throw new RangeError(`unknown log level: ${level}`);
  const logger = pino(
    {
      level,
      redact: { paths: secretRedactPaths(2), censor: REDACTED },
      formatters: {
        log: (record) => toLogSafeRecord(record),
        bindings: (bindings) => toLogSafeRecord(bindings),
      },
      // toLogSafe already turned Errors into pino's { type, message, stack } shape; the default
      // `err` serializer would take that plain object for an error and re-label it "Object".
      serializers: { err: (value: unknown) => value },
    },
    destinationStream(options),
  );
  return scrubbingChildBindings(logger);
}

/**
 * pino applies `formatters.bindings` to the root logger's bindings only: `child()` and
 * `setBindings()` on a child serialize their bindings without it, so a Buffer bound to a child
 * would be written raw. Children are created with `Object.create(parent)`, so replacing the two
 * methods on the root covers every descendant.
 */
function scrubbingChildBindings(root: Logger): Logger {
  const child = root.child;
  const setBindings = root.setBindings;
  root.child = function (this: Logger, bindings, childOptions) {
    return child.call(this, toLogSafeRecord(bindings), childOptions);
  } as Logger['child'];
  root.setBindings = function (this: Logger, bindings) {
    setBindings.call(this, toLogSafeRecord(bindings));
  };
  return root;
}

function destinationStream(options: CreateLoggerOptions): DestinationStream {
  const target = options.destination ?? 1;
  // Synchronous writes: a short CLI run must not lose its last lines on exit.
  const sink: DestinationStream = typeof target === 'object' ? target : pino.destination({ dest: target, sync: true });
  if (!options.pretty) return sink;
  // pino-pretty's formatter, in process and synchronous (no worker thread, no stream pipeline):
  // it formats the JSON line pino produced, i.e. after redaction and the safety net.
  const prettify = prettyFactory({
    colorize: target === 1 && process.stdout.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
  });
  return { write: (line: string) => sink.write(prettify(line)) };
}
