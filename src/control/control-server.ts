/**
 * The daemon's control socket: a unix stream socket (mode 0600 in a 0700 directory, so only the
 * daemon's user reaches it) speaking control-protocol.ts. It knows nothing of the engine: the
 * daemon hands it a `ControlHandler`.
 *
 * Every client is bounded (control-connection.ts): its socket errors end it alone, its request
 * lines, its unread output and its idle time are limited, and at most `maxClients` are served at
 * once.
 *
 * A socket file left by a daemon that died is removed; one that still answers means another
 * daemon runs, and starting fails rather than stealing its socket.
 */
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { LogPort } from '../ports.js';
import { ControlConnection, type ConnectionLimits } from './control-connection.js';
import type { ControlHandler } from './control-handler.js';
import type { ControlReply } from './control-protocol.js';
import { WarningThrottle } from './warning-throttle.js';

export type { ControlHandler } from './control-handler.js';

export interface ControlServerOptions extends Partial<ConnectionLimits> {
  /** Refused clients, overlong lines, dropped watchers and failed accepts are warned here (throttled). */
  readonly log?: Pick<LogPort, 'warn'>;
  /** Clients served at once; one more is told so and disconnected. */
  readonly maxClients?: number;
}

/** Bounds (README "Control socket"): a few CLI commands and watchers at once is the normal load. */
export const CONTROL_DEFAULTS = {
  maxClients: 64,
  /** A few hundred SA events of slack for a watcher that reads slowly. */
  maxQueuedBytes: 256 * 1024,
  idleTimeoutMs: 60_000,
  closeGraceMs: 5_000,
} as const;

export class ControlServer {
  /** Every accepted socket, refused ones too, so close() ends them all at once. */
  private readonly sockets = new Set<Socket>();
  private served = 0;
  private readonly warnings: WarningThrottle;
  private readonly limits: ConnectionLimits;
  private readonly maxClients: number;
  /** Failed accepts in this turn of the event loop (see acceptFailed). */
  private failuresThisTurn = 0;
  private relistenTimer: NodeJS.Timeout | undefined;
  private relistening = false;
  private closed = false;

  private constructor(
    private readonly server: Server,
    readonly path: string,
    private readonly handler: ControlHandler,
    options: ControlServerOptions,
  ) {
    this.warnings = new WarningThrottle(options.log);
    this.maxClients = options.maxClients ?? CONTROL_DEFAULTS.maxClients;
    this.limits = {
      maxQueuedBytes: options.maxQueuedBytes ?? CONTROL_DEFAULTS.maxQueuedBytes,
      idleTimeoutMs: options.idleTimeoutMs ?? CONTROL_DEFAULTS.idleTimeoutMs,
      closeGraceMs: options.closeGraceMs ?? CONTROL_DEFAULTS.closeGraceMs,
    };
    server.on('connection', (socket) => this.accept(socket));
  }

  static async listen(path: string, handler: ControlHandler, options: ControlServerOptions = {}): Promise<ControlServer> {
    await prepareSocketPath(path);
    // Half-open: a client may shut down its side after its request (`nc -U -N`) and still read the answer.
    const server = createServer({ allowHalfOpen: true });
    const control = new ControlServer(server, path, handler, options);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // After listen, an 'error' is a failed accept (EMFILE, ENFILE when out of file descriptors:
    // libuv accepts and closes the waiting clients and keeps listening). Without a listener it
    // would be thrown and end the daemon.
    server.on('error', (error: NodeJS.ErrnoException) => control.acceptFailed(error));
    // The 0700 parent already keeps others out between listen() and this chmod.
    chmodSync(path, 0o600);
    return control;
  }

  /** Clients being served now (refused ones not counted). */
  get clientCount(): number {
    return this.served;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.relistenTimer);
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {
      // Already gone (server.close removes it on some platforms).
    }
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    if (this.served >= this.maxClients) {
      this.refuse(socket);
      return;
    }
    this.served++;
    socket.once('close', () => this.served--);
    new ControlConnection(socket, this.handler, this.limits, this.warnings);
  }

  private refuse(socket: Socket): void {
    this.warnings.warn('too-many-clients', { maxClients: this.maxClients }, 'control client refused: too many clients');
    socket.on('error', () => socket.destroy());
    socket.once('finish', () => socket.destroy());
    setTimeout(() => socket.destroy(), this.limits.closeGraceMs).unref();
    const reply: ControlReply = { id: null, ok: false, error: `too many control clients (${this.maxClients}); try again later` };
    socket.end(`${JSON.stringify(reply)}\n`);
  }

  private acceptFailed(error: NodeJS.ErrnoException): void {
    const code = error.code ?? 'error';
    if (this.relistening) {
      this.relistening = false;
      this.warnings.warn(`listen-${code}`, { code, reason: error.message }, 'control socket could not listen again; retrying in 1 s');
      this.pauseListening();
      return;
    }
    const why = code === 'EMFILE' || code === 'ENFILE' ? ' (out of file descriptors)' : '';
    this.warnings.warn(`accept-${code}`, { code, reason: error.message }, `control socket could not accept a client${why}; still listening`);
    // On EMFILE libuv accepts and closes the waiting clients with a descriptor it keeps in
    // reserve. When it has lost that one too (another thread took it), it retries accept() for
    // the same client in a loop that calls back here each time without returning to the event
    // loop (uv__server_io, deps/uv/src/unix/stream.c): the daemon would freeze. Closing the
    // listening socket ends that loop; it listens again a second later.
    if (this.failuresThisTurn++ === 0) setImmediate(() => (this.failuresThisTurn = 0));
    if (this.failuresThisTurn >= 100 && this.relistenTimer === undefined) {
      this.warnings.warn('accept-loop', { code, failures: this.failuresThisTurn }, 'control socket: accept fails in a loop; not listening for 1 s');
      this.server.close();
      this.pauseListening();
    }
  }

  private pauseListening(): void {
    if (this.closed) return;
    this.relistenTimer = setTimeout(() => {
      this.relistenTimer = undefined;
      if (this.closed) return;
      this.relistening = true;
      this.server.listen(this.path, () => {
        this.relistening = false;
        try {
          chmodSync(this.path, 0o600);
        } catch {
          // Gone again already (closing); the 0700 directory still keeps others out.
        }
      });
    }, 1000);
  }
}

/** Creates the parent directory (0700) if missing and clears a stale socket file. */
async function prepareSocketPath(path: string): Promise<void> {
  const dir = dirname(path);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(path)) return;
  if (await answers(path)) throw new Error(`another daemon is listening on the control socket ${path}`);
  unlinkSync(path);
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}
