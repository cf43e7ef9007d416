/**
 * A WebSocket server that keeps every message it receives: the stand-in for the Stately
 * inspector's receiver in the `--inspect` tests. The `ws` package (a dependency of
 * @statelyai/inspect) has no types of its own: typed here as far as the tests use it.
 */
import { createRequire } from 'node:module';

/** The `ws` package (a dependency of @statelyai/inspect), typed as far as this test uses it. */
interface WsServer {
  on(event: 'connection', listener: (socket: { on(event: 'message', l: (data: Buffer) => void): void }) => void): void;
  on(event: 'listening', listener: () => void): void;
  address(): { port: number };
  close(): void;
}
const { WebSocketServer } = createRequire(import.meta.url)('ws') as { WebSocketServer: new (options: { host: string; port: number }) => WsServer };

export async function receiver(): Promise<{ url: string; messages: string[]; close(): void }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const messages: string[] = [];
  server.on('connection', (socket) => socket.on('message', (data) => messages.push(data.toString())));
  await new Promise<void>((resolve) => server.on('listening', resolve));
  return { url: `ws://127.0.0.1:${server.address().port}`, messages, close: () => server.close() };
}

