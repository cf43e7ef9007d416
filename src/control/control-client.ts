/**
 * A client of the daemon's control socket (the CLI's `up`, `down`, `rekey`, `reload`, `status`,
 * `watch`; `ikekm inspect --socket` follows the journal with controlWatchJournal). One connection per command; errors name the socket and say whether the daemon runs.
 * Whatever the daemon does to the connection (refuses it, closes it in the middle of an answer,
 * resets it, sends something that is not JSON) ends in a rejected promise with a message, never
 * an uncaught exception.
 */
import { createConnection, type Socket } from 'node:net';
import { decodeRecordLine, type PublicRecordEntry } from '../replay/record-entry.js';
import type { ControlEntryLine, ControlEventLine, ControlReply, ControlRequest } from './control-protocol.js';
import { JsonReindenter } from './json-reindent.js';
import { LineSplitter } from './line-splitter.js';

type RequestBody = ControlRequest extends infer R ? (R extends ControlRequest ? Omit<R, 'id'> : never) : never;

/** Longest line accepted from the daemon: a status of tens of thousands of SAs fits many times over. */
const MAX_REPLY_LINE = 256 * 1024 * 1024;

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

/** The daemon answered ok:false (to the request, or to the connection: too many clients, …). */
export class ControlCommandError extends Error {
  override readonly name = 'ControlCommandError';
}

/** The connection broke or the daemon's answer was not readable. */
export class ControlConnectionError extends Error {
  override readonly name = 'ControlConnectionError';
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

type ServerLine = ControlReply | ControlEventLine | ControlEntryLine;

interface LineHandlers {
  line(message: ServerLine): void;
  /** The connection is over; `problem` says what went wrong, if anything. */
  end(problem: string | undefined): void;
}

/**
 * Reads JSON lines from `socket` until it closes. Every failure (socket error, a line that is not
 * JSON or too long, the connection closed in the middle of a line) is reported once through
 * `end`, and the socket is destroyed.
 */
function readLines(socket: Socket, handlers: LineHandlers): void {
  const splitter = new LineSplitter(MAX_REPLY_LINE);
  let problem: string | undefined;
  const fail = (why: string): void => {
    problem ??= why;
    socket.destroy();
  };
  socket.on('data', (chunk: Buffer) => {
    if (problem !== undefined) return;
    const result = splitter.push(chunk);
    for (const line of result.lines) {
      if (line.trim() === '') continue;
      let message: ServerLine;
      try {
        message = JSON.parse(line) as ServerLine;
      } catch {
        fail(`the daemon sent a line that is not JSON (${line.length} characters)`);
        return;
      }
      handlers.line(message);
      if (problem !== undefined || socket.destroyed) return;
    }
    if (!result.ok) fail(`the daemon sent a line longer than ${MAX_REPLY_LINE} bytes`);
  });
  socket.on('error', (error: NodeJS.ErrnoException) => fail(`the control connection failed (${error.code ?? error.message})`));
  socket.once('close', () => {
    const unfinished = splitter.rest();
    if (problem === undefined && unfinished !== undefined) problem = `the daemon closed the control connection in the middle of a line (${Buffer.byteLength(unfinished)} bytes received)`;
    handlers.end(problem);
  });
}

/** The answer to request 1 (id null: the daemon refused the connection itself, too many clients, …). */
const isReplyToRequest = (line: ServerLine): line is ControlReply => !('event' in line || 'entry' in line) && (line.id === 1 || line.id === null);

/**
 * Settles a request once: with its answer, a failure, or after `timeoutMs` without either; the
 * connection is closed with it.
 */
function settler(socket: Socket, cmd: string, timeoutMs: number, reject: (error: Error) => void): (outcome: () => void) => void {
  let settled = false;
  const settle = (outcome: () => void): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    socket.destroy();
    outcome();
  };
  const timer = setTimeout(() => settle(() => reject(new Error(`the daemon did not answer "${cmd}" within ${timeoutMs / 1000} s`))), timeoutMs);
  return settle;
}

/**
 * Sends one request and hands its `result` to `write` as JSON.stringify(result, null, 2) would
 * write it, piece by piece as the reply arrives (json-reindent.ts), never as objects: the status
 * of 100 000 SAs is 60 MiB of reply. Resolves once all of it is written; rejects as
 * controlRequest does, then maybe after part of it was written (the daemon closed the connection
 * in the middle). A reply that is not `{"id":1,"ok":true,"result":…}` (a refusal, an error) is
 * read whole and parsed as controlRequest reads it.
 */
export async function controlRequestIndented(path: string, body: Exclude<RequestBody, { cmd: 'watch' }>, write: (text: Buffer) => void, timeoutMs = 60_000): Promise<void> {
  const socket = await connect(path);
  const streamed = Buffer.from(`{"id":1,"ok":true,"result":`);
  return new Promise((resolve, reject) => {
    const settle = settler(socket, body.cmd, timeoutMs, reject);
    const closedEarly = (problem: string | undefined): void =>
      settle(() => reject(new ControlConnectionError(`${problem ?? 'the daemon closed the control connection'} before answering "${body.cmd}"`)));
    // Until the first bytes say which: the streamed reply, or one to read whole.
    let head = Buffer.alloc(0);
    let reindenter: JsonReindenter | undefined;
    let after = '';
    const onData = (chunk: Buffer): void => {
      if (reindenter === undefined) {
        head = Buffer.concat([head, chunk]);
        if (head.length < streamed.length && !head.includes(0x0a)) return;
        if (!head.subarray(0, streamed.length).equals(streamed)) return readWhole(head);
        reindenter = new JsonReindenter();
        chunk = head.subarray(streamed.length);
      }
      if (!reindenter.ended) {
        const piece = reindenter.push(chunk);
        if (piece.output.length > 0) write(piece.output);
        if (piece.rest === undefined) return;
        chunk = piece.rest;
      }
      // What closes the reply line: `}` and the newline.
      after += chunk.toString('latin1');
      if (after.length < 2) return;
      if (after.startsWith('}\n')) settle(resolve);
      else settle(() => reject(new ControlConnectionError(`the daemon's reply did not end as a reply line does (${JSON.stringify(after.slice(0, 20))})`)));
    };
    /** Not streamed: the line as controlRequest reads it. */
    const readWhole = (received: Buffer): void => {
      socket.removeListener('data', onData);
      socket.removeAllListeners('close');
      socket.removeAllListeners('error');
      readLines(socket, {
        line: (reply) => {
          if (!isReplyToRequest(reply)) return;
          settle(() => {
            if (!reply.ok) return reject(new ControlCommandError(reply.error));
            write(Buffer.from(JSON.stringify(reply.result, null, 2)));
            resolve();
          });
        },
        end: closedEarly,
      });
      socket.emit('data', received);
    };
    socket.on('data', onData);
    socket.on('error', (error: NodeJS.ErrnoException) => closedEarly(`the control connection failed (${error.code ?? error.message})`));
    socket.once('close', () => {
      if (reindenter === undefined) return closedEarly(undefined);
      settle(() => reject(new ControlConnectionError(`the daemon closed the control connection in the middle of its answer to "${body.cmd}"`)));
    });
    socket.write(`${JSON.stringify({ id: 1, ...body })}\n`);
  });
}

/** Sends one request and resolves with its `result` (rejects with ControlCommandError on ok:false). */
export async function controlRequest(path: string, body: Exclude<RequestBody, { cmd: 'watch' }>, timeoutMs = 60_000): Promise<unknown> {
  const socket = await connect(path);
  return new Promise((resolve, reject) => {
    const settle = settler(socket, body.cmd, timeoutMs, reject);
    readLines(socket, {
      line: (reply) => {
        if (!isReplyToRequest(reply)) return;
        settle(() => (reply.ok ? resolve(reply.result) : reject(new ControlCommandError(reply.error))));
      },
      end: (problem) =>
        settle(() => reject(new ControlConnectionError(`${problem ?? 'the daemon closed the control connection'} before answering "${body.cmd}"`))),
    });
    socket.write(`${JSON.stringify({ id: 1, ...body })}\n`);
  });
}

/** How a watch ended: `reason` when the daemon (or the connection) ended it with a problem. */
export interface WatchEnd {
  readonly reason?: string;
}

export interface Watch {
  /** Resolves when the stream ends (the daemon stopped, dropped this watcher, or `close()`). */
  readonly ended: Promise<WatchEnd>;
  close(): void;
}

/** Streams the daemon's events to `onEvent` until closed or the daemon goes away. */
export function controlWatch(path: string, onEvent: (event: unknown) => void): Promise<Watch> {
  return watchStream(path, { cmd: 'watch' }, (message) => {
    if ('event' in message) onEvent(message.event);
  });
}

/**
 * Follows the engine's journal (control-protocol.ts, `"journal":true`): first the current state
 * of each live actor, then every input, datagram out and state change, until closed or the
 * daemon goes away; with `connection`, only what concerns that connection's SAs. Each entry is
 * handed over as the JSON it came as, a record file line's
 * (Buffers as `{"hex":…}`): `decodeJournalEntry` (or decodeRecordLine(JSON.stringify(entry)))
 * makes it a record entry.
 */
export function controlWatchJournal(path: string, onEntry: (entry: unknown) => void, options: { connection?: string } = {}): Promise<Watch> {
  return watchStream(path, { cmd: 'watch', journal: true, ...(options.connection === undefined ? {} : { connection: options.connection }) }, (message) => {
    if ('entry' in message) onEntry(message.entry);
  });
}

/** A journal watch's entry (as JSON) as the record entry it is: Buffers back from `{"hex":…}`. */
export const decodeJournalEntry = (entry: unknown): PublicRecordEntry => decodeRecordLine(JSON.stringify(entry)) as PublicRecordEntry;

/** Sends a watch request and hands each streamed line to `onLine`, after the daemon said yes. */
async function watchStream(path: string, request: Extract<RequestBody, { cmd: 'watch' }>, onLine: (message: ServerLine) => void): Promise<Watch> {
  const socket = await connect(path);
  let closing = false;
  let reason: string | undefined;
  let started = false;
  let markEnded: (end: WatchEnd) => void = () => undefined;
  const ended = new Promise<WatchEnd>((resolve) => (markEnded = resolve));
  await new Promise<void>((resolve, reject) => {
    readLines(socket, {
      line: (message) => {
        if ('event' in message || 'entry' in message) {
          onLine(message);
        } else if (!started && message.ok) {
          started = true;
          resolve();
        } else if (!message.ok) {
          // Before the stream: the request was refused. During it: why the daemon ended it.
          if (started) reason = message.error;
          else reject(new ControlCommandError(message.error));
        }
      },
      end: (problem) => {
        if (!started) reject(new ControlConnectionError(`${problem ?? 'the daemon closed the control connection'} before answering "watch"`));
        const why = reason ?? (closing ? undefined : problem);
        markEnded(why === undefined ? {} : { reason: why });
      },
    });
    socket.write(`${JSON.stringify({ id: 1, ...request })}\n`);
  });
  return {
    ended,
    close: () => {
      closing = true;
      socket.end();
    },
  };
}
