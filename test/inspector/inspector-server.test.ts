/**
 * The inspector's HTTP server (src/inspector/inspector-server.ts): the page's files and nothing
 * else, only under its own Host, and the steps as Server-Sent Events: those kept so far, then
 * each new one, then the end.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { InspectorFeed } from '../../src/inspector/inspector-feed.js';
import { startInspectorServer, type InspectorServer } from '../../src/inspector/inspector-server.js';
import type { InspectorStep } from '../../src/inspector/inspector-steps.js';

const step = (index: number): InspectorStep => ({ index, at: 1000 + index, input: { kind: 'command', text: `command ${index}` }, outputs: [], states: [] });

function get(url: string, path: string, host?: string): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(path, url);
    const req = request(target, { headers: host === undefined ? {} : { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Reads Server-Sent Events from /steps until `enough` says so; returns them as [event, data]. */
function readEvents(url: string, enough: (events: [string, unknown][]) => boolean): Promise<[string, unknown][]> {
  return new Promise((resolve, reject) => {
    const req = request(new URL('/steps', url), (res) => {
      const events: [string, unknown][] = [];
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
          const data = /^data: (.*)$/m.exec(block)?.[1] ?? 'null';
          events.push([event, JSON.parse(data)]);
        }
        if (enough(events)) {
          req.destroy();
          resolve(events);
        }
      });
      res.on('end', () => resolve(events));
    });
    req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(e)));
    req.end();
  });
}

describe('the inspector server', () => {
  let server: InspectorServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('serves the page, its script, style and the two charts, and nothing else', async () => {
    server = await startInspectorServer(new InspectorFeed({ kind: 'record', name: 'r.jsonl' }));
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await get(server.url, '/');
    expect(page.status).toBe(200);
    expect(page.type).toContain('text/html');
    expect(page.body).toContain('<script type="module" src="/inspector.js">');
    for (const [path, type] of [['/inspector.js', 'javascript'], ['/inspector.css', 'css'], ['/charts/ike-sa.svg', 'svg'], ['/charts/child-sa.svg', 'svg']] as const) {
      const got = await get(server.url, path);
      expect(got.status, path).toBe(200);
      expect(got.type, path).toContain(type);
    }
    expect((await get(server.url, '/charts/ike-sa.svg')).body).toContain('data-state="ikeSa.established.window.idle"');
    for (const path of ['/package.json', '/../package.json', '/%2e%2e/package.json', '/charts/supervisor.svg', '/inspector/index.html']) {
      expect((await get(server.url, path)).status, path).toBe(404);
    }
  });

  it('answers only requests addressed to it by its own name (no DNS rebinding)', async () => {
    server = await startInspectorServer(new InspectorFeed({ kind: 'record', name: 'r.jsonl' }));
    const port = new URL(server.url).port;
    expect((await get(server.url, '/', `localhost:${port}`)).status).toBe(200);
    expect((await get(server.url, '/', `attacker.example:${port}`)).status).toBe(421);
    expect((await get(server.url, '/steps', `attacker.example:${port}`)).status).toBe(421);
  });

  it('streams the source, the steps kept so far, each new step, then the end', async () => {
    const feed = new InspectorFeed({ kind: 'live', name: '/run/ikekm/ikekm.sock' });
    feed.add(step(0));
    feed.add(step(1));
    server = await startInspectorServer(feed);
    const reading = readEvents(server.url, (events) => events.some(([e]) => e === 'end'));
    // Once the page has what was kept, a new step and the end follow live.
    await new Promise((resolve) => setTimeout(resolve, 100));
    feed.add(step(2));
    feed.end('the daemon stopped');
    const events = await reading;
    expect(events).toEqual([
      ['source', { kind: 'live', name: '/run/ikekm/ikekm.sock' }],
      ['step', step(0)],
      ['step', step(1)],
      ['step', step(2)],
      ['end', { reason: 'the daemon stopped' }],
    ]);
  });

  it('a live feed keeps only its newest steps for pages that come late', () => {
    const feed = new InspectorFeed({ kind: 'live', name: 's' }, 10);
    for (let i = 0; i < 25; i++) feed.add(step(i));
    const seen: number[] = [];
    feed.follow({ step: (s) => seen.push(s.index), end: () => undefined });
    expect(seen).toEqual([15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
  });
});
