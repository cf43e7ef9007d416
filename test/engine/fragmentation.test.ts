/**
 * IKE fragmentation (RFC 7383): when both sides announced IKEV2_FRAGMENTATION_SUPPORTED and a
 * protected message does not fit the configured datagram size, it goes out as SKF fragments,
 * each within the size, and the peer reassembles it; without the peer's support it does not.
 */
import { describe, expect, it } from 'vitest';
import { ExchangeType, PayloadType, decodeMessage, isUnknownPayload, type SkfPayload } from '../../src/wire/index.js';
import type { Datagram } from '../../src/ports.js';
import { DEFAULT_ENGINE_SETTINGS } from '../../src/config/model.js';
import { connectionPair } from './fixtures.js';
import { Lab } from './lab.js';

const both = (lab: Lab) => () => lab.established(lab.a) && lab.established(lab.b);

function fragmentsOf(trace: readonly Datagram[], exchangeType: number): { datagram: Datagram; skf: SkfPayload }[] {
  const out: { datagram: Datagram; skf: SkfPayload }[] = [];
  for (const d of trace) {
    const m = decodeMessage(d.bytes);
    if (!m.ok || m.value.header.exchangeType !== exchangeType) continue;
    const last = m.value.payloads[m.value.payloads.length - 1];
    if (last !== undefined && !isUnknownPayload(last) && last.type === PayloadType.SKF) out.push({ datagram: d, skf: last });
  }
  return out;
}

// Many traffic selectors make IKE_AUTH large (each IPv6 selector is 40 octets).
const traffic = {
  local: Array.from({ length: 12 }, (_, i) => `2001:db8:${i}::/48`),
  remote: Array.from({ length: 12 }, (_, i) => `2001:db8:1${i}::/48`),
};

describe('IKE fragmentation (RFC 7383)', () => {
  it('fragments a large IKE_AUTH into SKF messages within the size, and both sides establish', async () => {
    const lab = new Lab({ pair: { trafficA: traffic, fragmentation: { enabled: true, maxDatagramSize: 576 } } });
    lab.network.traceEnabled = true;
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab), 60_000)).toBe(true);
    const fragments = fragmentsOf(lab.network.trace, ExchangeType.IKE_AUTH);
    expect(fragments.length).toBeGreaterThanOrEqual(4); // the request and the response both fragmented
    for (const { datagram } of fragments) expect(datagram.bytes.length + 20 + 8).toBeLessThanOrEqual(576);
    const totals = new Set(fragments.map((f) => f.skf.totalFragments));
    expect([...totals].every((t) => t >= 2)).toBe(true);
    expect(lab.a.engine.status()[0]!.children[0]!.localTs).toHaveLength(12);
  });

  it('does not fragment when the peer did not announce support', async () => {
    const lab = new Lab({ pair: { trafficA: traffic, fragmentation: { enabled: true, maxDatagramSize: 576 } } });
    const { b } = connectionPair({ trafficA: traffic });
    lab.b.engine.reload({
      settings: DEFAULT_ENGINE_SETTINGS,
      connections: [{ ...b, ikePolicy: { ...b.ikePolicy, fragmentation: { enabled: false, maxDatagramSize: 576 } } }],
    });
    lab.network.traceEnabled = true;
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab), 60_000)).toBe(true);
    expect(fragmentsOf(lab.network.trace, ExchangeType.IKE_AUTH)).toHaveLength(0);
  });

  it('with 30 % loss the fragmented exchange still completes (all fragments are retransmitted)', async () => {
    const lab = new Lab({
      seed: 5,
      impairment: { loss: 0.3 },
      pair: { trafficA: traffic, fragmentation: { enabled: true, maxDatagramSize: 576 }, retransmit: { initialMs: 4000, factor: 1.8, tries: 20, limitMs: 30_000 } },
      settings: { halfOpenTimeoutSeconds: 900 },
    });
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab), 900_000)).toBe(true);
    expect(lab.a.kernel.sas()).toHaveLength(2);
    expect(lab.b.kernel.sas()).toHaveLength(2);
  });
});
