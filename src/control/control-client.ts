/**
 * A client of the daemon's control socket (the CLI's `up`, `down`, `rekey`, `reload`, `status`,
 * `watch`). One connection per command; errors name the socket and say whether the daemon runs.
 */
import { createConnection, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { ControlReply, ControlRequest } from './control-protocol.js';

type RequestBody = ControlRequest extends infer R ? (R extends ControlRequest ? Omit<R, 'id'> : never) : never;

/** The daemon is not there (no socket file, or nobody listening on it). */
export class DaemonUnreachableError extends Error {
  constructor(
    readonly socketPath: string,
    readonly code: string,
  ) {
    super(`cannot reach the ikekm daemon at ${socketPath} (${code}): is \`ikekm daemon\` running, and is this its --socket?`);
    this.name = 'DaemonUnreachableError';
  }
}

/** The daemon answered ok:false. */
export class ControlCommandError extends Error {
  override readonly name = 'ControlCommandError';
}

function connect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? 'error';
      reject(code === 'ENOENT' || code === 'ECONNREFUSED' ? new DaemonUnreachableError(path, code) : error);
    });
  });
}

/** Sends one request and resolves with its `result` (rejects with ControlCommandError on ok:false). */
export async function controlRequest(path: string, body: Exclude<RequestBody, { cmd: 'watch' }>, timeoutMs = 60_000): Promise<unknown> {
  const socket = await connect(path);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the daemon did not answer "${body.cmd}" within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
    };
    createInterface({ input: socket, crlfDelay: Infinity }).on('line', (line) => {
      const reply = JSON.parse(line) as ControlReply;
      if (reply.id !== 1) return;
      done();
      if (reply.ok) resolve(reply.result);
      else reject(new ControlCommandError(reply.error));
    });
    socket.once('close', () => {
      clearTimeout(timer);
      reject(new Error(`the daemon closed the control connection before answering "${body.cmd}"`));
    });
    socket.write(`${JSON.stringify({ id: 1, ...body })}\n`);
  });
}

export interface Watch {
  /** Resolves when the stream ends (the daemon stopped, or `close()`). */
  readonly ended: Promise<void>;
  close(): void;
}

/** Streams the daemon's events to `onEvent` until closed or the daemon goes away. */
export async function controlWatch(path: string, onEvent: (event: unknown) => void): Promise<Watch> {
  const socket = await connect(path);
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: socket, crlfDelay: Infinity }).on('line', (line) => {
      const message = JSON.parse(line) as ControlReply | { id: number; event: unknown };
      if ('event' in message) onEvent(message.event);
      else if (message.ok) resolve();
      else reject(new ControlCommandError(message.error));
    });
    socket.write(`${JSON.stringify({ id: 1, cmd: 'watch' })}\n`);
  });
  return { ended, close: () => socket.end() };
}
