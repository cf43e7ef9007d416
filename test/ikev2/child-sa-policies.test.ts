/**
 * The kernel policies of a Child SA (child-sa-kernel.ts): out, in and fwd per selector pair of
 * TSi x TSr (RFC 7296 2.9), without the pairs another pair already covers.
 */
import { describe, expect, it } from 'vitest';
import { childSaPolicies, policyPairs, type ChildSaPlacement } from '../../src/ikev2/child-sa-kernel.js';
import { formatSelector, selectorFromCidr, type Selector } from '../../src/policy/traffic-selectors.js';

const TCP = 6;
const ICMP = 1;

function sel(cidr: string, options: { ipProtocol?: number; port?: number } = {}): Selector {
  const r = selectorFromCidr(cidr, options);
  if (!r.ok) throw new Error(`bad selector ${cidr}`);
  return r.value;
}

const pairs = (local: Selector[], remote: Selector[]): string[] => policyPairs(local, remote).map((p) => `${formatSelector(p.local)} > ${formatSelector(p.remote)}`);

const placement: ChildSaPlacement = { connection: 'lab', localAddress: '192.0.2.1', remoteAddress: '192.0.2.2', reqid: 0x4b4d0001 };

describe('policyPairs', () => {
  it('every local with every remote selector of its family', () => {
    expect(pairs([sel('198.51.100.0/24'), sel('2001:db8:1::/48'), sel('198.51.101.0/24')], [sel('203.0.113.0/24'), sel('2001:db8:2::/48')])).toEqual([
      '198.51.100.0/24 > 203.0.113.0/24',
      '2001:db8:1::/48 > 2001:db8:2::/48',
      '198.51.101.0/24 > 203.0.113.0/24',
    ]);
  });

  it("an on-demand start's packet selectors kept beside the configured ones (2.9): the one pair that covers the others", () => {
    // what an ikekm responder answers to an initiator that offered the ping's selectors first
    const local = [sel('198.51.100.1/32', { ipProtocol: ICMP, port: 0x0800 }), sel('198.51.100.1/32')];
    const remote = [sel('203.0.113.1/32', { ipProtocol: ICMP, port: 0x0800 }), sel('203.0.113.1/32')];
    expect(pairs(local, remote)).toEqual(['198.51.100.1/32 > 203.0.113.1/32']);
  });

  it('keeps pairs that only overlap, and one of two equal pairs', () => {
    const web = sel('198.51.100.0/24', { ipProtocol: TCP, port: 443 });
    expect(pairs([web, sel('198.51.100.0/25')], [sel('203.0.113.0/24')])).toEqual(['198.51.100.0/24[tcp/443] > 203.0.113.0/24', '198.51.100.0/25 > 203.0.113.0/24']);
    expect(pairs([sel('198.51.100.0/24'), sel('198.51.100.0/24')], [sel('203.0.113.0/24')])).toEqual(['198.51.100.0/24 > 203.0.113.0/24']);
  });
});

describe('childSaPolicies', () => {
  it('out, in and fwd for each pair in tunnel mode, out and in in transport mode', () => {
    const ts = { localTs: [sel('198.51.100.1/32', { ipProtocol: ICMP, port: 0x0800 }), sel('198.51.100.1/32')], remoteTs: [sel('203.0.113.1/32')] };
    expect(childSaPolicies({ ...ts, mode: 'tunnel' }, placement).map((p) => p.direction)).toEqual(['out', 'in', 'fwd']);
    expect(childSaPolicies({ ...ts, mode: 'transport' }, placement).map((p) => p.direction)).toEqual(['out', 'in']);
  });
});
