/**
 * IKE fragmentation (RFC 7383): when both sides announced IKEV2_FRAGMENTATION_SUPPORTED and a
 * protected message does not fit the configured datagram size, it goes out as SKF fragments,
 * each within the size, and the peer reassembles it; without the peer's support it does not.
 */
import { describe, expect, it } from 'vitest';
import { ExchangeType, MAX_MESSAGE_OCTETS, PayloadType, decodeMessage, encodePayloadChain, isUnknownPayload, type SkfPayload } from '../../src/wire/index.js';
import { headerFor } from '../../src/ikev2/ike-sa-session.js';
import { sealForged } from '../fuzz/sk-mode.js';
import type { Datagram } from '../../src/ports.js';
import { DEFAULT_ENGINE_SETTINGS } from '../../src/config/model.js';
import { connectionPair, seededRandom } from './fixtures.js';
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

describe('reassembly limits (RFC 7383 2.6)', () => {
  it("an authenticated peer's fragments are abandoned as soon as they hold more than a message may (32 KiB); a 20 KB message in fragments is answered", async () => {
    const lab = new Lab({ pair: { fragmentation: { enabled: true, maxDatagramSize: 1280 } } });
    const idA = lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab), 60_000)).toBe(true);
    const security = lab.a.engine.ikeSaContext(idA)!.security!;
    const idB = lab.b.engine.status()[0]!.id;
    const expected = lab.b.engine.ikeSaContext(idB)!.expectedRequestId;
    const random = seededRandom('fragments');
    const held = () => Object.values(lab.b.engine.ikeSaContext(idB)?.reassembly?.parts ?? {}).reduce((n, p) => n + p.length, 0);
    /** INFORMATIONAL{N(private status, `size` octets)} as the peer's request, in `fragments` SKF messages. */
    const send = async (size: number, fragments: number): Promise<number> => {
      const chain = encodePayloadChain([{ type: PayloadType.N, protocolId: 0, spi: Buffer.alloc(0), notifyType: 40_960, data: Buffer.alloc(size, 0x5a) }]);
      const header = headerFor(security, ExchangeType.INFORMATIONAL, expected, false);
      let mostHeld = 0;
      for (const bytes of sealForged(security, header, { firstType: chain.firstPayloadType, bytes: chain.bytes }, { fragments }, random)) {
        lab.b.engine.receive({ local: { address: lab.b.address, port: 500 }, remote: { address: lab.a.address, port: 500 }, bytes });
        await lab.run(1);
        mostHeld = Math.max(mostHeld, held());
      }
      await lab.run(100);
      return mostHeld;
    };
    const mostHeld = await send(40_000, 60);
    expect(mostHeld).toBeLessThanOrEqual(MAX_MESSAGE_OCTETS);
    expect(held()).toBeLessThan(40_000);
    expect(lab.b.engine.ikeSaContext(idB)!.lastResponse?.messageId).not.toBe(expected);

    // More fragments than before: a new fragmentation of this Message ID, not the stale one (2.5.2, 2.6).
    await send(20_000, 64);
    expect(lab.b.engine.ikeSaContext(idB)!.lastResponse?.messageId).toBe(expected);
  });
});
