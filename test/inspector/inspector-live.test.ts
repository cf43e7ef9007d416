/**
 * `ikekm inspect --socket`: the page follows a live daemon. Two daemons in this process
 * (test/daemon/support/daemon-pair.ts); the inspector follows b's journal over its control
 * socket. One is joined late (after an IKE SA is up: the page first shows where each actor is),
 * then the page in Chromium follows a Child SA rekey as it happens.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlWatchJournal } from '../../src/control/control-client.js';
import type { InspectorStep } from '../../src/inspector/inspector-steps.js';
import { startInspectorServer, type InspectorServer } from '../../src/inspector/inspector-server.js';
import { followDaemon } from '../../src/inspector/live-feed.js';
import { startPair, waitFor, type Pair } from '../daemon/support/daemon-pair.js';
import { chromiumMissing, launchChromium, screenshotPath } from '../support/chromium.js';

const missing = chromiumMissing();
if (missing !== undefined) console.warn(`SKIPPING the live inspector page test: ${missing}`);

describe('the inspector following a live daemon', () => {
  let pair: Pair;
  beforeAll(async () => {
    pair = await startPair({ a: [{ start: 'listen' }], b: [{ start: 'listen' }] });
    await pair.b.daemon.up('lab');
  }, 60_000);
  afterAll(async () => {
    await pair?.stop();
  });

  it('joins late with the state of each actor, then follows each step as it happens; ends when the daemon stops', async () => {
    const live = await followDaemon(pair.b.socket, controlWatchJournal);
    const steps: InspectorStep[] = [];
    const unfollow = live.feed.follow({ step: (s) => steps.push(s), end: () => undefined });
    const ikeSa = (await pair.b.daemon.status()).ikeSas[0]!;
    // The first step: where each actor is, the IKE SA established, its Child SA installed.
    await waitFor('the state when the inspector joined', () => steps.length > 0);
    expect(steps[0]!.input.text).toBe('the state of each actor when the inspector joined');
    const joined = new Map(steps[0]!.states.map((s) => [s.actor, s.value]));
    const ikeActor = [...joined.keys()].find((a) => !a.includes('/'))!;
    expect(ikeActor).toBe(`ike-${ikeSa.role === 'initiator' ? ikeSa.spiI : ikeSa.spiR}`);
    expect(joined.get(ikeActor)).toMatchObject({ established: { window: 'idle' } });
    expect([...joined.entries()].filter(([a]) => a.startsWith(`${ikeActor}/`)).map(([, v]) => v)).toEqual(['installed']);

    await pair.b.daemon.rekey('lab', { ike: false });
    await waitFor('the rekey in the steps', () => steps.some((s) => s.outputs.some((o) => o.exchange === 'CREATE_CHILD_SA' && !o.response)) && steps.some((s) => s.input.message?.exchange === 'CREATE_CHILD_SA'));
    const request = steps.find((s) => s.outputs.some((o) => o.exchange === 'CREATE_CHILD_SA'))!;
    expect(request.states.find((s) => s.actor === ikeActor)?.value).toMatchObject({ established: { window: { rekeyingChild: 'awaitingResponse' } } });
    // Nothing secret in what the inspector got: no draw, and every datagram only as its header.
    expect(JSON.stringify(steps)).not.toContain('"t":"draw"');
    unfollow();
    live.stop();
    await waitFor('the feed to end', () => live.feed.ended);
  }, 60_000);

  describe.skipIf(missing !== undefined && process.env.CI !== 'true')('in Chromium', () => {
    let browser: Browser;
    let server: InspectorServer;
    let stopFeed: () => void;
    beforeAll(async () => {
      const live = await followDaemon(pair.b.socket, controlWatchJournal);
      stopFeed = live.stop;
      server = await startInspectorServer(live.feed);
      browser = await launchChromium();
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
      await server?.close();
      stopFeed?.();
    });

    it('the page follows the daemon: a rekey appears as it happens, the chart lit where the SA is', async () => {
      const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(server.url);
      await expect(page.locator('#source').textContent()).resolves.toBe(`following the daemon at ${pair.b.socket}`);
      await page.locator('#follow-label:not([hidden])').waitFor();
      const ike = page.locator('#actors tr.ike').first();
      await ike.waitFor();
      await ike.click();
      await page.locator('#chart g.lit-leaf[data-state="ikeSa.established.window.idle"]').waitFor();

      await pair.b.daemon.rekey('lab', { ike: false });
      // Followed live: the request and the response appear without a click, as the newest steps.
      await page.locator('#sequence .row.message', { hasText: 'CREATE_CHILD_SA response' }).first().waitFor({ timeout: 10_000 });
      // The old Child SA rekeyed, then deleted; the new one installed.
      await page.locator('#sequence .row.note', { hasText: / rekeyed$/ }).first().waitFor({ timeout: 10_000 });
      await page.locator('#actors tr.child .state', { hasText: /^deleted$/ }).first().waitFor({ timeout: 10_000 });
      await expect(page.locator('#actors tr.child .state', { hasText: /^installed$/ }).count()).resolves.toBeGreaterThanOrEqual(1);
      const position = await page.locator('#position').textContent();
      const [, at, of] = /step (\d+) of (\d+)/.exec(position ?? '') ?? [];
      expect(at).toBe(of);
      const path = screenshotPath('inspector-live.png');
      mkdirSync(dirname(path), { recursive: true });
      await page.screenshot({ path });
      console.log(`inspector page screenshot: ${path}`);
      expect(errors).toEqual([]);
      await page.close();
    }, 60_000);
  });
});
