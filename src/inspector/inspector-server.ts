/**
 * The inspector page's HTTP server (`ikekm inspect`): the page itself from `visualizations/`
 * (HTML, one script, one style sheet and the machines' state charts, so it needs no internet)
 * and its data as Server-Sent Events at `/steps`:
 *
 *   event: source   {"kind":"record"|"live","name":…}   once, first
 *   event: step     an InspectorStep (inspector-steps.ts)  each step, in order
 *   event: end      {"reason":…}                          nothing more will come
 *
 * It listens on loopback unless told otherwise, and answers only requests whose Host is the
 * address it listens on or `localhost` (a web page elsewhere cannot reach it through a DNS name
 * rebound to 127.0.0.1). Nothing it serves is secret (no keys, no nonces: see inspector-steps.ts),
 * but a daemon's peers, addresses and SPIs are nobody else's business.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InspectorFeed } from './inspector-feed.js';

/** Where the page and the charts are: `visualizations/` of this ikekm. */
const PAGE_DIR = new URL('../../visualizations/', import.meta.url);

/** The only files served, and their types: nothing else of the disk is reachable. */
const FILES: Readonly<Record<string, { readonly file: string; readonly type: string }>> = {
  '/': { file: 'inspector/index.html', type: 'text/html; charset=utf-8' },
  '/inspector.js': { file: 'inspector/inspector.js', type: 'text/javascript; charset=utf-8' },
  '/inspector.css': { file: 'inspector/inspector.css', type: 'text/css; charset=utf-8' },
  '/favicon.svg': { file: 'inspector/favicon.svg', type: 'image/svg+xml' },
  '/charts/ike-sa.svg': { file: 'ike-sa.svg', type: 'image/svg+xml' },
  '/charts/child-sa.svg': { file: 'child-sa.svg', type: 'image/svg+xml' },
};

/** What a page may leave unread before it is let go. */
const MAX_UNSENT_BYTES = 16 * 1024 * 1024;

export interface InspectorServer {
  /** The page's address, e.g. http://127.0.0.1:8484/ */
  readonly url: string;
  close(): Promise<void>;
}

export async function startInspectorServer(feed: InspectorFeed, options: { readonly host?: string; readonly port?: number } = {}): Promise<InspectorServer> {
  const host = options.host ?? '127.0.0.1';
  const streams = new Set<ServerResponse>();
  const server: Server = createServer((request, response) => {
    serve(request, response, feed, streams, allowedHosts).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(`inspector: ${(error as Error).message}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  const allowedHosts = new Set([`${shown}:${port}`, `localhost:${port}`]);
  return {
    url: `http://${shown}:${port}/`,
    close: async () => {
      for (const stream of streams) stream.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function serve(request: IncomingMessage, response: ServerResponse, feed: InspectorFeed, streams: Set<ServerResponse>, allowedHosts: ReadonlySet<string>): Promise<void> {
  if (!allowedHosts.has(request.headers.host ?? '')) {
    response.writeHead(421, { 'content-type': 'text/plain' }).end('inspector: this page is served on its own address only\n');
    return;
  }
  if (request.method !== 'GET') {
    response.writeHead(405, { allow: 'GET', 'content-type': 'text/plain' }).end('inspector: GET only\n');
    return;
  }
  const path = new URL(request.url ?? '/', 'http://inspector').pathname;
  if (path === '/steps') {
    followFeed(response, feed, streams);
    return;
  }
  const file = FILES[path];
  if (file === undefined) {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('inspector: no such page\n');
    return;
  }
  const body = await readFile(new URL(file.file, PAGE_DIR));
  response.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-cache', 'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'" });
  response.end(body);
}

function followFeed(response: ServerResponse, feed: InspectorFeed, streams: Set<ServerResponse>): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  streams.add(response);
  let unfollow = (): void => undefined;
  /** The steps kept so far go out at once (bounded by the feed); the limit is for what follows. */
  let catchingUp = true;
  const send = (event: string, data: unknown): void => {
    if (response.writableEnded) return;
    response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    // A page that does not read (a background tab of a busy daemon) is let go, not buffered for.
    if (!catchingUp && response.writableLength > MAX_UNSENT_BYTES) {
      response.end(`event: end\ndata: ${JSON.stringify({ reason: 'the page fell too far behind; reload it to follow again' })}\n\n`);
      unfollow();
    }
  };
  send('source', feed.source);
  unfollow = feed.follow({
    step: (step) => send('step', step),
    // Nothing more will come: the stream ends with it (the page closes its EventSource on `end`,
    // before it would try to reconnect).
    end: (reason) => {
      send('end', { reason });
      response.end();
    },
  });
  catchingUp = false;
  response.on('close', () => {
    unfollow();
    streams.delete(response);
  });
}
