/**
 * The inspector page in a real browser (headless Chromium): `ikekm inspect --record` on a record
 * of a real negotiation with strongSwan's peer role played by ikekm (test/replay/records/): load
 * it, click the IKE SA, step forward and back, and see the state, the message and the lit state
 * of the chart change. A screenshot of each moment is left in test/output/.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInspectorServer, type InspectorServer } from '../../src/inspector/inspector-server.js';
import { recordFeed } from '../../src/inspector/record-feed.js';
import { readRecordFile } from '../../src/replay/record-file.js';
import { chromiumMissing, launchChromium, screenshotPath } from '../support/chromium.js';

const RECORD = 'test/replay/records/initiator-rekeys-retransmit.jsonl';
const missing = chromiumMissing();
if (missing !== undefined) console.warn(`SKIPPING the inspector page tests: ${missing}`);

async function screenshot(page: Page, name: string): Promise<void> {
  const path = screenshotPath(name);
  mkdirSync(dirname(path), { recursive: true });
  await page.screenshot({ path, fullPage: true });
  console.log(`inspector page screenshot: ${path}`);
}

describe.skipIf(missing !== undefined && process.env.CI !== 'true')('the inspector page in Chromium', () => {
  let browser: Browser;
  let server: InspectorServer;
  let inputs: number;
  /** The record's first IKE SA, its first Child SA, and the input at which a datagram first went out again. */
  let ikeSa: string;
  let retransmitStep: number;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const entries = await readRecordFile(RECORD);
    inputs = entries.filter((e) => e.t === 'in').length;
    const firstState = entries.find((e) => e.t === 'state');
    ikeSa = firstState?.t === 'state' ? firstState.actor : '';
    // The step (1-based: "step N") in which a datagram out repeats one sent before.
    const sent = new Set<string>();
    let step = 0;
    retransmitStep = 0;
    for (const e of entries) {
      if (e.t === 'in') step++;
      if (e.t !== 'out') continue;
      const hex = Buffer.from(e.datagram.bytes).toString('hex');
      if (sent.has(hex) && retransmitStep === 0) retransmitStep = step;
      sent.add(hex);
    }
    expect(retransmitStep).toBeGreaterThan(0);
    server = await startInspectorServer(await recordFeed(RECORD));
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const open = async (): Promise<Page> => {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    await page.goto(server.url);
    await page.locator('#position').filter({ hasText: `step 0 of ${inputs}` }).waitFor();
    return page;
  };

  it('loads a record, steps forward to the first IKE SA, and shows its state, message and chart', async () => {
    const page = await open();
    await expect(page.locator('#source').textContent()).resolves.toContain(RECORD);
    await page.click('#next');
    await page.locator('#position').filter({ hasText: `step 1 of ${inputs}` }).waitFor();
    await expect(page.locator('#step-input').textContent()).resolves.toBe('command initiate lab');
    await page.click(`#actors tr[data-actor="${ikeSa}"]`);
    await page.locator(`#actors tr.selected[data-actor="${ikeSa}"]`).waitFor();
    await expect(page.locator(`#actors tr[data-actor="${ikeSa}"] .state`).textContent()).resolves.toBe('ikeSaInit');
    // The IKE SA chart, its state lit; the request it sent is the current row of the diagram.
    await page.locator('#chart g.lit-leaf[data-state="ikeSa.ikeSaInit"]').waitFor();
    await expect(page.locator('#chart g.lit-leaf').count()).resolves.toBe(1);
    await expect(page.locator('#sequence .row.current.message').first().textContent()).resolves.toContain('IKE_SA_INIT request #0');
    await screenshot(page, 'inspector-step-1.png');

    // Forward: the response comes in, the SA moves on, the chart follows.
    await page.click('#next');
    await page.locator('#position').filter({ hasText: `step 2 of ${inputs}` }).waitFor();
    await expect(page.locator('#step-input').textContent()).resolves.toBe('IKE_SA_INIT response #0 in');
    await expect(page.locator(`#actors tr[data-actor="${ikeSa}"] .state`).textContent()).resolves.toBe('ikeAuth.allocatingSpi');
    await page.locator('#chart g.lit-leaf[data-state="ikeSa.ikeAuth.allocatingSpi"]').waitFor();
    await expect(page.locator('#chart g.lit[data-state="ikeSa.ikeAuth"]').count()).resolves.toBe(1);
    await expect(page.locator('#chart g.lit-leaf[data-state="ikeSa.ikeSaInit"]').count()).resolves.toBe(0);

    // On to established: three regions at once, each lit.
    for (let i = 0; i < 2; i++) await page.keyboard.press('ArrowRight');
    await page.locator('#position').filter({ hasText: `step 4 of ${inputs}` }).waitFor();
    await expect(page.locator(`#actors tr[data-actor="${ikeSa}"] .state`).textContent()).resolves.toBe('established.{window.idle, answering.idle, succession.current}');
    const lit = await page.locator('#chart g.lit-leaf').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-state')).sort());
    expect(lit).toEqual(['ikeSa.established.answering.idle', 'ikeSa.established.succession.current', 'ikeSa.established.window.idle']);
    await expect(page.locator('#sequence .row.message').count()).resolves.toBe(4);
    await screenshot(page, 'inspector-established.png');

    // Back one: the state and the message of step 3 again.
    await page.click('#prev');
    await page.locator('#position').filter({ hasText: `step 3 of ${inputs}` }).waitFor();
    await expect(page.locator('#step-input').textContent()).resolves.toBe(`SPI_ALLOCATED for ${ikeSa}`);
    await expect(page.locator(`#actors tr[data-actor="${ikeSa}"] .state`).textContent()).resolves.toBe('ikeAuth.awaitingResponse');
    await expect(page.locator('#sequence .row.message').count()).resolves.toBe(3);
    await page.close();
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it("draws the rekey's retransmission dashed, with the procedure it belongs to", async () => {
    const page = await open();
    for (let i = 0; i < retransmitStep; i++) await page.keyboard.press('ArrowRight');
    await page.locator('#position').filter({ hasText: `step ${retransmitStep} of ${inputs}` }).waitFor();
    await page.click(`#actors tr[data-actor="${ikeSa}"]`);
    const current = page.locator('#sequence .row.current.message');
    await current.first().waitFor();
    await expect(current.first().getAttribute('class')).resolves.toContain('repeat');
    await expect(current.first().textContent()).resolves.toContain('CREATE_CHILD_SA request #2 · rekeyingChild (retransmit)');
    // The first sending of it is there too, not dashed.
    const first = page.locator('#sequence .row.message:not(.repeat)', { hasText: 'CREATE_CHILD_SA request #2' });
    await expect(first.count()).resolves.toBe(1);
    await expect(page.locator('#step-input').textContent()).resolves.toBe(`RETRANSMIT for ${ikeSa}`);
    await screenshot(page, 'inspector-retransmit.png');
    // The last step: the record's end is said.
    await page.click('#last');
    await page.locator('#position').filter({ hasText: `step ${inputs} of ${inputs}` }).waitFor();
    await expect(page.locator('#ended').textContent()).resolves.toContain(`the whole record: ${inputs} steps`);
    await page.close();
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('selecting a Child SA shows the Child SA chart, its state lit', async () => {
    const page = await open();
    await page.keyboard.press('End');
    await page.locator('#position').filter({ hasText: `step ${inputs} of ${inputs}` }).waitFor();
    const child = page.locator('#actors tr.child').first();
    const actor = await child.getAttribute('data-actor');
    await child.click();
    await page.locator('#chart g.lit-leaf[data-state="childSa.deleted"]').waitFor();
    await expect(page.locator('#chart-title').textContent()).resolves.toBe(`Child SA ${actor}: deleted`);
    await page.close();
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
