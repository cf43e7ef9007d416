/**
 * Limits per IKE SA on the peer's new Child SAs: an authenticated peer asking for one Child SA
 * after another (a CREATE_CHILD_SA storm) gets NO_ADDITIONAL_SAS beyond maxChildSasPerIkeSa
 * (RFC 7296 3.10.1) and TEMPORARY_FAILURE beyond maxNewChildSasPerMinute (2.25), while rekeys of
 * the Child SAs it has still work (1.3.3).
 */
import { describe, expect, it } from 'vitest';
import type { SaEvent } from '../../src/engine/engine-ports.js';
import { DEFAULT_ENGINE_SETTINGS } from '../../src/config/model.js';
import { Lab } from './lab.js';

const both = (lab: Lab) => () => lab.established(lab.a) && lab.established(lab.b);
type ChildUp = Extract<SaEvent, { kind: 'child-sa-up' }>;
const childUps = (events: readonly SaEvent[]) => events.filter((e): e is ChildUp => e.kind === 'child-sa-up');

/** A is the storming peer: it asks B for `n` more Child SAs on its IKE SA, one after another. */
async function storm(lab: Lab, n: number): Promise<string> {
  lab.a.engine.initiate('lab');
  expect(await lab.runUntil(both(lab), 30_000)).toBe(true);
  const id = lab.a.engine.status()[0]!.id;
  for (let i = 0; i < n; i++) lab.a.engine.createChildSa(id);
  await lab.run(10_000);
  return id;
}

describe('Child SA limits per IKE SA', () => {
  it('beyond maxChildSasPerIkeSa the peer gets NO_ADDITIONAL_SAS; a rekey still works', async () => {
    const lab = new Lab({ settingsB: { maxChildSasPerIkeSa: 5, maxNewChildSasPerMinute: 1000 } });
    const id = await storm(lab, 10);
    // The first Child SA came with IKE_AUTH, four more were accepted, the other six refused.
    expect(childUps(lab.b.events)).toHaveLength(5);
    expect(lab.b.engine.status()[0]?.children).toHaveLength(5);
    const refused = lab.a.events.filter((e) => e.kind === 'child-sa-failed');
    expect(refused).toHaveLength(6);
    expect(refused.every((e) => e.kind === 'child-sa-failed' && e.notify === 'NO_ADDITIONAL_SAS')).toBe(true);
    // One warning for the storm, not one per request (1st refusal; the 10th would be the next).
    expect(lab.b.logs.filter((r) => r.level === 'warn' && r.message.includes('limit per IKE SA'))).toHaveLength(1);

    // A rekey replaces a Child SA rather than adding one (1.3.3): it passes the full IKE SA.
    const before = childUps(lab.a.events).length;
    const spi = lab.a.engine.status()[0]!.children[0]!.inboundSpi;
    lab.a.engine.rekeyChildSa(id, spi);
    await lab.run(10_000);
    expect(childUps(lab.a.events).slice(before)).toMatchObject([{ rekeyOf: spi }]);
    expect(lab.b.engine.status()[0]?.children.filter((c) => c.state === 'installed')).toHaveLength(5);
  });

  it('beyond maxNewChildSasPerMinute the peer gets TEMPORARY_FAILURE, and may create again a minute later', async () => {
    const lab = new Lab({ settingsB: { maxNewChildSasPerMinute: 3 } });
    const id = await storm(lab, 6);
    expect(childUps(lab.b.events)).toHaveLength(1 + 3);
    expect(lab.a.logs.filter((r) => r.message === 'the peer is busy: new Child SA not created')).toHaveLength(3);
    expect(lab.b.logs.find((r) => r.message.includes('limit per IKE SA'))?.fields).toMatchObject({ notify: 'TEMPORARY_FAILURE' });
    await lab.run(60_000);
    lab.a.engine.createChildSa(id);
    await lab.run(10_000);
    expect(childUps(lab.b.events)).toHaveLength(1 + 4);
  });

  it('the defaults stop a storm of 300 at the rate limit, far below the Child SA limit', async () => {
    expect(DEFAULT_ENGINE_SETTINGS).toMatchObject({ maxChildSasPerIkeSa: 100, maxNewChildSasPerMinute: 30 });
    const lab = new Lab({ silent: true });
    await storm(lab, 300);
    expect(lab.b.engine.status()[0]?.children).toHaveLength(1 + DEFAULT_ENGINE_SETTINGS.maxNewChildSasPerMinute);
    expect(lab.b.kernel.sas()).toHaveLength(2 * (1 + DEFAULT_ENGINE_SETTINGS.maxNewChildSasPerMinute));
  });
});
