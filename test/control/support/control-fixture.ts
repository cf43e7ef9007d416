/**
 * A ControlServer on a real unix socket in a temporary directory, serving a fake ControlHandler
 * whose replies the test releases, and raw clients that record every byte they receive (or read
 * nothing at all, like a client that hangs).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Observable, Subject } from 'rxjs';
import type { PublicRecordEntry } from '../../../src/replay/record-entry.js';
import { ControlServer, type ControlHandler, type ControlServerOptions } from '../../../src/control/control-server.js';

/** A reply the test resolves when it wants (a "slow" daemon). */
export class Deferred<T> {
  resolve!: (value: T) => void;
  reject!: (error: unknown) => void;
  readonly promise = new Promise<T>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });
}

export class FakeHandler implements ControlHandler {
  readonly events = new Subject<unknown>();
  /** Watch subscriptions open now. */
  watchers = 0;
  readonly events$ = new Observable<unknown>((subscriber) => {
    this.watchers++;
    const subscription = this.events.subscribe(subscriber);
    return () => {
      this.watchers--;
      subscription.unsubscribe();
    };
  });
  /** What a journal watch streams (a test pushes entries here; the daemon's come from its engine). */
  readonly journal = new Subject<PublicRecordEntry>();
  journal$(): Observable<PublicRecordEntry> {
    return this.journal.asObservable();
  }
  /** Set by a test: the status as text in pieces (ControlHandler.writeStatus), used instead of status(). */
  writeStatus?: (write: (text: string) => void) => Promise<void>;
  /** Each status() call takes the next deferred from here, or answers at once when none is queued. */
  readonly statusReplies: Deferred<unknown>[] = [];
  statusCalls = 0;

  status(): Promise<unknown> {
    this.statusCalls++;
    return this.statusReplies.shift()?.promise ?? Promise.resolve({ ikeSas: [] });
  }
  up(name: string): Promise<unknown> {
    return Promise.resolve({ connection: name });
  }
  down(name: string): Promise<unknown> {
    return Promise.resolve({ connection: name, deleted: 0 });
  }
  rekey(name: string): Promise<unknown> {
    return Promise.resolve({ connection: name });
  }
  recordStart(file: string): Promise<unknown> {
    return Promise.resolve({ file });
  }
  recordStop(): Promise<unknown> {
    return Promise.resolve({ entries: 0 });
  }
  reload(): Promise<unknown> {
    return Promise.resolve({ added: [], removed: [], changed: [], unchanged: [] });
  }
}

export interface Fixture {
  readonly dir: string;
  readonly path: string;
  readonly server: ControlServer;
  readonly handler: FakeHandler;
  readonly warnings: { fields: object; message: string }[];
  close(): Promise<void>;
}

export async function startControl(options: Omit<ControlServerOptions, 'log'> = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'ikekm-control-'));
  const path = join(dir, 'run', 'ikekm.sock');
  const handler = new FakeHandler();
  const warnings: { fields: object; message: string }[] = [];
  const log = { warn: (fields: object, message: string) => void warnings.push({ fields, message }) };
  const server = await ControlServer.listen(path, handler, { ...options, log });
  return {
    dir,
    path,
    server,
    handler,
    warnings,
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RawClient {
  readonly socket: Socket;
  /** Everything received, as text. */
  received(): string;
  /** Complete lines received, parsed. */
  lines(): Record<string, unknown>[];
  readonly closed: Promise<void>;
  readonly errors: Error[];
}

/** Connects; `read: false` leaves the socket paused: nothing is ever read (a hung client). */
export function connectRaw(path: string, options: { read?: boolean } = {}): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    if (options.read === false) socket.pause();
    const chunks: Buffer[] = [];
    const errors: Error[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error) => errors.push(error));
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    const received = (): string => Buffer.concat(chunks).toString('utf8');
    socket.once('connect', () =>
      resolve({
        socket,
        received,
        lines: () =>
          received()
            .split('\n')
            .slice(0, -1)
            .map((line) => JSON.parse(line) as Record<string, unknown>),
        closed,
        errors,
      }),
    );
    socket.once('error', reject);
  });
}

export const tick = (ms = 0): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` on each turn of the event loop until it holds (the test's own timeout bounds it). */
export async function until(probe: () => boolean): Promise<void> {
  while (!probe()) await new Promise((resolve) => setImmediate(resolve));
}

/** Every uncaught exception while the test runs (vitest reports them too, but after the test). */
export function recordUncaught(): { readonly errors: Error[]; stop(): void } {
  const errors: Error[] = [];
  const listener = (error: Error): void => void errors.push(error);
  process.on('uncaughtException', listener);
  return { errors, stop: () => void process.off('uncaughtException', listener) };
}
