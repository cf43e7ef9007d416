/**
 * The log under a flood of spoofable IKE_SA_INITs (one sender, 1 000 datagrams/s): records any
 * sender can cause once per datagram are logged a few per 10 s window and then counted into one
 * summary (src/log/log-summarizer.ts), so the log stays small whatever the rate. Virtual time.
 */
import { describe, expect, it } from 'vitest';
import { Lab, type LabSide } from './lab.js';
import { ADMIT_EVERY_INIT, floodDatagram, openResponderLab, strangerInitBytes } from './stranger-init.js';

/** Octets of the records as JSON lines (bindings, fields, message), about what pino writes. */
const logOctets = (side: LabSide): number => side.logs.reduce((n, r) => n + JSON.stringify({ ...r.bindings, ...r.fields, msg: r.message }).length + 1, 0);

/** `count` datagrams of `bytes`, one per millisecond, each a new IKE_SA_INIT from its own address. */
async function flood(lab: Lab, bytes: Buffer, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    lab.b.engine.receive(floodDatagram(bytes, i));
    await lab.run(1);
  }
}

describe('the log under a flood of IKE_SA_INIT requests', () => {
  it('1 000 from peers no connection is configured for: three records and one summary with the count', async () => {
    const lab = new Lab();
    await flood(lab, strangerInitBytes('198.51.100.1'), 1000);
    await lab.run(20_000);
    expect(lab.b.engine.counters().noConnection).toBe(1000);
    const refusals = lab.b.logs.filter((r) => r.fields.summary === undefined && r.bindings.component === 'supervisor');
    const summaries = lab.b.logs.filter((r) => r.fields.summary !== undefined);
    expect(refusals).toHaveLength(3);
    expect(summaries.map((r) => [r.fields.events, r.fields.notLogged])).toEqual([[1000, 997]]);
    expect(summaries[0]!.fields.example).toMatchObject({ remote: '198.51.100.3' });
    // Here 769 octets (4 records); before, one record per datagram: ~135 KB for these 1 000.
    expect(logOctets(lab.b)).toBeLessThan(4 * 1024);
  });

  it('300 that each make a half-open SA (COOKIEs returned, say), which then times out: a handful of records, not two per SA', async () => {
    const lab = openResponderLab({}, ADMIT_EVERY_INIT);
    await flood(lab, strangerInitBytes('198.51.100.1'), 300);
    expect(lab.b.engine.size()).toBe(300);
    await lab.run(60_000);
    expect(lab.b.engine.size()).toBe(0);
    const byMessage = new Map<string, number>();
    for (const r of lab.b.logs) byMessage.set(r.message, (byMessage.get(r.message) ?? 0) + 1);
    expect(byMessage.get('IKE_SA_INIT answered')).toBe(3);
    expect(byMessage.get('IKE SA negotiation failed')).toBe(3);
    const summaries = lab.b.logs.filter((r) => r.fields.summary !== undefined);
    expect(summaries.map((r) => [r.fields.summary, r.fields.events])).toEqual([
      ['ike-sa-init-answered', 300],
      ['half-open-timeout', 300],
    ]);
    // Here 1 952 octets (8 records); before, two records per half-open SA: ~107 KB for these 300.
    expect(logOctets(lab.b)).toBeLessThan(6 * 1024);
  });

  it('1 000 valid ones under the default admission (COOKIEs past 30 half-open): the log stays small too', async () => {
    const lab = openResponderLab({});
    await flood(lab, strangerInitBytes('198.51.100.1'), 1000);
    await lab.run(60_000);
    expect(lab.b.engine.counters().cookiesSent).toBeGreaterThan(900);
    expect(logOctets(lab.b)).toBeLessThan(6 * 1024);
  });
});
