/**
 * The engine under hostile IKE_SA_INIT requests from strangers: ~63 KB requests padded with
 * thousands of payloads are dropped as malformed before any SA exists (the codec's limits,
 * src/wire/decode-limits.ts), while a plain request from the same stranger is answered.
 */
import { describe, expect, it } from 'vitest';
import { HOSTILE_VARIANTS, hostileIkeSaInit } from '../wire/hostile-ike-sa-init.js';
import { floodDatagram, openResponderLab, strangerInitBytes } from './stranger-init.js';

describe('hostile IKE_SA_INIT requests', () => {
  it('a plain request from a stranger makes a half-open SA (the control case)', async () => {
    const lab = openResponderLab();
    lab.b.engine.receive(floodDatagram(strangerInitBytes('198.51.100.1'), 1));
    await lab.run(100);
    expect(lab.b.engine.size()).toBe(1);
    expect(lab.b.engine.counters().malformed).toBe(0);
  });

  it.each(HOSTILE_VARIANTS)('the same request padded to 63 KB with %s is dropped as malformed: no SA, nothing sent', async (variant) => {
    const lab = openResponderLab();
    const answers: Buffer[] = [];
    const bytes = hostileIkeSaInit(strangerInitBytes('198.51.100.1'), variant);
    const datagram = floodDatagram(bytes, 1);
    lab.network.attach(datagram.remote, (d) => answers.push(d.bytes));
    lab.b.engine.receive(datagram);
    await lab.run(100);
    expect(lab.b.engine.size()).toBe(0);
    expect(lab.b.engine.counters().malformed).toBe(1);
    expect(answers).toHaveLength(0);
  });

  it.each(HOSTILE_VARIANTS)('padded to 30 KB with %s (under the size limit) it is dropped as malformed too', async (variant) => {
    const lab = openResponderLab();
    lab.b.engine.receive(floodDatagram(hostileIkeSaInit(strangerInitBytes('198.51.100.1'), variant, 30_000), 1));
    await lab.run(100);
    expect(lab.b.engine.size()).toBe(0);
    expect(lab.b.engine.counters().malformed).toBe(1);
  });
});
