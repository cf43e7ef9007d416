/**
 * The daemon's control socket: a unix stream socket (mode 0600 in a 0700 directory, so only the
 * daemon's user reaches it) speaking control-protocol.ts. It knows nothing of the engine: the
 * daemon hands it a `ControlHandler`.
 *
 * A socket file left by a daemon that died is removed; one that still answers means another
 * daemon runs, and starting fails rather than stealing its socket.
 */
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { Observable } from 'rxjs';
import { MAX_REQUEST_LINE, parseControlRequest, type ControlReply, type ControlRequest } from './control-protocol.js';

export interface ControlHandler {
  up(name: string): Promise<unknown>;
  down(name: string): Promise<unknown>;
  rekey(name: string, options: { ike: boolean }): Promise<unknown>;
  /** Re-reads the configuration file; rejects with the diagnostics when it is bad. */
  reload(): Promise<unknown>;
  /** The status JSON (it reads the kernel's byte counters: asynchronous). */
  status(): Promise<unknown>;
  readonly events$: Observable<unknown>;
}

export class ControlServer {
  private readonly clients = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly path: string,
    private readonly handler: ControlHandler,
  ) {
    server.on('connection', (socket) => this.serve(socket));
  }

  static async listen(path: string, handler: ControlHandler): Promise<ControlServer> {
    await prepareSocketPath(path);
    const server = createServer();
    const control = new ControlServer(server, path, handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // The 0700 parent already keeps others out between listen() and this chmod.
    chmodSync(path, 0o600);
    return control;
  }

  async close(): Promise<void> {
    for (const socket of this.clients) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {
      // Already gone (server.close removes it on some platforms).
    }
  }

  private serve(socket: Socket): void {
    this.clients.add(socket);
    socket.on('close', () => this.clients.delete(socket));
    socket.on('error', () => socket.destroy());
    const lines = createInterface({ input: socket, crlfDelay: Infinity });
    const send = (message: object): void => {
      if (!socket.destroyed && socket.writable) socket.write(`${JSON.stringify(message)}\n`);
    };
    lines.on('line', (line) => {
      if (line.trim() === '') return;
      if (line.length > MAX_REQUEST_LINE) {
        send({ id: null, ok: false, error: 'request line too long' });
        socket.end();
        return;
      }
      const parsed = parseControlRequest(line);
      if (!parsed.ok) {
        send({ id: parsed.id, ok: false, error: parsed.error } satisfies ControlReply);
        return;
      }
      if (parsed.request.cmd === 'watch') {
        this.watch(parsed.request.id, socket, send);
        return;
      }
      this.dispatch(parsed.request).then(
        (result) => send({ id: parsed.request.id, ok: true, result: result ?? null } satisfies ControlReply),
        (error: unknown) => send({ id: parsed.request.id, ok: false, error: error instanceof Error ? error.message : String(error) } satisfies ControlReply),
      );
    });
  }

  private watch(id: number, socket: Socket, send: (message: object) => void): void {
    send({ id, ok: true, result: { watching: true } } satisfies ControlReply);
    const subscription = this.handler.events$.subscribe({
      next: (event) => send({ id, event }),
      // The daemon is stopping: end the stream so the client sees the end.
      complete: () => socket.end(),
    });
    socket.once('close', () => subscription.unsubscribe());
  }

  private async dispatch(request: Exclude<ControlRequest, { cmd: 'watch' }>): Promise<unknown> {
    switch (request.cmd) {
      case 'up':
        return this.handler.up(request.name);
      case 'down':
        return this.handler.down(request.name);
      case 'rekey':
        return this.handler.rekey(request.name, { ike: request.ike === true });
      case 'reload':
        return this.handler.reload();
      case 'status':
        return this.handler.status();
    }
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
