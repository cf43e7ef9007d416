import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatSelector,
  fromWireSelector,
  fromWireSelectors,
  intersect,
  isSubsetOf,
  narrow,
  narrowTrafficSelectors,
  parseSelector,
  selectorFromCidr,
  toWireSelector,
  type Selector,
} from '../../src/policy/traffic-selectors.js';
import { TsType } from '../../src/wire/iana.js';

const TCP = 6;
const UDP = 17;
const ICMP = 1;

function sel(cidr: string, options: Parameters<typeof selectorFromCidr>[1] = {}): Selector {
  const r = selectorFromCidr(cidr, options);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

const range = (start: string, end: string, rest: Partial<Selector> = {}): Selector => ({
  ipProtocol: 0,
  startPort: 0,
  endPort: 65535,
  startAddress: start,
  endAddress: end,
  family: start.includes(':') ? 6 : 4,
  ...rest,
});

describe('selectorFromCidr', () => {
  it('reads IPv4 and IPv6 prefixes and single addresses', () => {
    expect(sel('198.51.100.0/24')).toEqual(range('198.51.100.0', '198.51.100.255'));
    expect(sel('2001:db8::/64')).toEqual(range('2001:db8::', '2001:db8::ffff:ffff:ffff:ffff'));
    expect(sel('192.0.2.1')).toEqual(range('192.0.2.1', '192.0.2.1'));
    expect(sel('2001:DB8::1')).toEqual(range('2001:db8::1', '2001:db8::1'));
    expect(sel('0.0.0.0/0')).toEqual(range('0.0.0.0', '255.255.255.255'));
    expect(sel('::/0')).toEqual(range('::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'));
  });

  it('clears host bits below the prefix, as strongSwan does', () => {
    expect(sel('10.1.2.3/16')).toEqual(range('10.1.0.0', '10.1.255.255'));
  });

  it('reads an address range', () => {
    expect(sel('192.0.2.10 - 192.0.2.20')).toEqual(range('192.0.2.10', '192.0.2.20'));
  });

  it('takes a protocol and a port or port range', () => {
    expect(sel('192.0.2.0/24', { ipProtocol: TCP, port: 443 })).toEqual(range('192.0.2.0', '192.0.2.255', { ipProtocol: TCP, startPort: 443, endPort: 443 }));
    expect(sel('192.0.2.0/24', { ipProtocol: UDP, port: [1024, 65535] })).toMatchObject({ startPort: 1024, endPort: 65535 });
  });

  it.each([
    ['198.51.100.0/33', {}],
    ['2001:db8::/129', {}],
    ['198.51.100.0/x', {}],
    ['198.51.100.300', {}],
    ['host.example', {}],
    ['192.0.2.20-192.0.2.10', {}],
    ['192.0.2.1-2001:db8::1', {}],
    ['192.0.2.0/24', { port: 70000 }],
    ['192.0.2.0/24', { port: [80, 79] as [number, number] }],
    ['192.0.2.0/24', { ipProtocol: 256 }],
  ])('refuses %s %j', (cidr, options) => {
    expect(selectorFromCidr(cidr, options).ok).toBe(false);
  });
});

describe('parseSelector (swanctl local_ts / remote_ts)', () => {
  it.each([
    ['10.0.0.0/8', sel('10.0.0.0/8')],
    ['10.0.0.0/8[tcp]', sel('10.0.0.0/8', { ipProtocol: TCP })],
    ['10.0.0.0/8[tcp/443]', sel('10.0.0.0/8', { ipProtocol: TCP, port: 443 })],
    ['2001:db8::/32[udp/500-4500]', sel('2001:db8::/32', { ipProtocol: UDP, port: [500, 4500] })],
    ['192.0.2.1[17/%any]', sel('192.0.2.1', { ipProtocol: UDP })],
    ['192.0.2.1[%any/53]', sel('192.0.2.1', { port: 53 })],
    ['192.0.2.1[icmp/opaque]', sel('192.0.2.1', { ipProtocol: ICMP, port: [65535, 0] })],
  ])('%s', (text, expected) => {
    expect(parseSelector(text)).toEqual({ ok: true, value: expected });
  });

  it.each(['10.0.0.0/8[bogus]', '10.0.0.0/8[tcp/http]', '10.0.0.0/8[tcp', '[tcp/80]'])('refuses %s', (text) => {
    expect(parseSelector(text).ok).toBe(false);
  });
});

describe('wire form', () => {
  it('round-trips IPv4 and IPv6 selectors', () => {
    for (const s of [sel('198.51.100.0/24', { ipProtocol: TCP, port: 80 }), sel('2001:db8::/48')]) {
      const wire = toWireSelector(s);
      expect(wire.tsType).toBe(s.family === 4 ? TsType.TS_IPV4_ADDR_RANGE : TsType.TS_IPV6_ADDR_RANGE);
      expect(wire.startAddress.length).toBe(s.family === 4 ? 4 : 16);
      expect(fromWireSelector(wire)).toEqual(s);
    }
    expect(toWireSelector(sel('192.0.2.0/24')).startAddress).toEqual(Buffer.from([192, 0, 2, 0]));
  });

  it('leaves out selectors of other TS Types', () => {
    const v4 = toWireSelector(sel('192.0.2.0/24'));
    const fc = { tsType: TsType.TS_FC_ADDR_RANGE, octet1: 0, data: Buffer.alloc(12) };
    expect(fromWireSelectors([fc, v4])).toEqual([sel('192.0.2.0/24')]);
  });

  it('refuses a selector whose addresses do not match its family', () => {
    expect(() => toWireSelector({ ...sel('192.0.2.0/24'), family: 6 })).toThrow(RangeError);
  });
});

describe('intersect', () => {
  it('takes the narrower protocol, the common ports and the common addresses', () => {
    expect(intersect(sel('10.0.0.0/8'), sel('10.1.0.0/16', { ipProtocol: TCP, port: 22 }))).toEqual(sel('10.1.0.0/16', { ipProtocol: TCP, port: 22 }));
    expect(intersect(sel('10.0.0.0/24', { port: [1000, 2000] }), sel('10.0.0.128/25', { port: [1500, 3000] }))).toEqual(
      sel('10.0.0.128/25', { port: [1500, 2000] }),
    );
    expect(intersect(range('10.0.0.5', '10.0.0.20'), range('10.0.0.10', '10.0.0.30'))).toEqual(range('10.0.0.10', '10.0.0.20'));
  });

  it('is empty for other protocols, disjoint ports, disjoint addresses, or another family', () => {
    expect(intersect(sel('10.0.0.0/8', { ipProtocol: TCP }), sel('10.0.0.0/8', { ipProtocol: UDP }))).toBeUndefined();
    expect(intersect(sel('10.0.0.0/8', { port: 80 }), sel('10.0.0.0/8', { port: 443 }))).toBeUndefined();
    expect(intersect(sel('10.0.0.0/24'), sel('10.0.1.0/24'))).toBeUndefined();
    expect(intersect(sel('0.0.0.0/0'), sel('::/0'))).toBeUndefined();
  });

  it('treats OPAQUE ports (start 65535, end 0; RFC 7296 3.13.1) as meeting only "any" and OPAQUE', () => {
    const opaque = sel('10.0.0.0/8', { port: [65535, 0] });
    expect(intersect(opaque, sel('10.0.0.0/8'))).toEqual(opaque);
    expect(intersect(sel('10.0.0.0/8'), opaque)).toEqual(opaque);
    expect(intersect(opaque, opaque)).toEqual(opaque);
    expect(intersect(opaque, sel('10.0.0.0/8', { port: [0, 65534] }))).toBeUndefined();
  });

  it('narrows ICMP type/code carried as ports (Type << 8 | Code)', () => {
    const echoRequest = 8 << 8;
    const anyIcmp = sel('10.0.0.0/8', { ipProtocol: ICMP });
    const echo = sel('10.0.0.1', { ipProtocol: ICMP, port: [echoRequest, echoRequest | 0xff] });
    expect(intersect(anyIcmp, echo)).toEqual(echo);
  });
});

describe('narrowing (RFC 7296 2.9)', () => {
  // 2.9's example: a packet from 198.51.100.43 triggers the SA; the initiator puts the packet's
  // selector first ("the address range (198.51.100.43 - 198.51.100.43) and the source port and IP
  // protocol from the packet") and its policy second ("(198.51.100.0 - 198.51.100.255) with all
  // ports and IP protocols"), and likewise in TSr.
  const packetTsi = range('198.51.100.43', '198.51.100.43', { ipProtocol: TCP, startPort: 49152, endPort: 49152 });
  const packetTsr = range('192.0.2.80', '192.0.2.80', { ipProtocol: TCP, startPort: 443, endPort: 443 });
  const offered = { TSi: [packetTsi, sel('198.51.100.0/24')], TSr: [packetTsr, sel('192.0.2.0/24')] };

  it('returns the offer unchanged when the policy allows all of it', () => {
    const r = narrowTrafficSelectors(offered, { remote: [sel('198.51.100.0/24')], local: [sel('192.0.2.0/24')] });
    expect(r).toEqual({ ok: true, value: { TSi: offered.TSi, TSr: offered.TSr } });
  });

  it("keeps the initiator's first choices when the policy accepts them (2.9's MUST)", () => {
    // the responder allows only 198.51.100.43: "the responder might respond with TSi being
    // (198.51.100.43 - 198.51.100.43) with all ports and IP protocols"
    const r = narrowTrafficSelectors(offered, { remote: [sel('198.51.100.43/32')], local: [sel('192.0.2.0/24')] });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.TSi).toEqual([packetTsi, sel('198.51.100.43/32')]);
    expect(r.value.TSi[0]).toEqual(packetTsi);
    expect(r.value.TSr).toEqual(offered.TSr);
  });

  it('narrows to an acceptable subset when the first selector is not acceptable', () => {
    const r = narrowTrafficSelectors(offered, { remote: [sel('198.51.100.128/25')], local: [sel('192.0.2.0/25')] });
    expect(r).toEqual({ ok: true, value: { TSi: [sel('198.51.100.128/25')], TSr: [packetTsr, sel('192.0.2.0/25')] } });
  });

  it('answers TS_UNACCEPTABLE when either side is left empty, saying which and listing both sides', () => {
    const r = narrowTrafficSelectors(offered, { remote: [sel('203.0.113.0/24')], local: [sel('192.0.2.0/24')] });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.kind).toBe('TS_UNACCEPTABLE');
    expect(r.error.reason).toBe(
      'TSi do not intersect our policy: received TSi 198.51.100.43/32[tcp/49152] 198.51.100.0/24, TSr 192.0.2.80/32[tcp/443] 192.0.2.0/24; ' +
        'configured remote 203.0.113.0/24, local 192.0.2.0/24',
    );
    const both = narrowTrafficSelectors(offered, { remote: [sel('2001:db8::/32')], local: [sel('::/0')] });
    expect(!both.ok && both.error.reason).toMatch(/^TSi and TSr do not intersect/);
  });

  it('narrows ports and protocols', () => {
    const r = narrowTrafficSelectors(
      { TSi: [sel('10.0.0.0/24')], TSr: [sel('10.1.0.0/24')] },
      { remote: [sel('10.0.0.0/24')], local: [sel('10.1.0.0/24', { ipProtocol: TCP, port: 443 }), sel('10.1.0.0/24', { ipProtocol: UDP, port: [500, 4500] })] },
    );
    expect(r.ok && r.value.TSr).toEqual([sel('10.1.0.0/24', { ipProtocol: TCP, port: 443 }), sel('10.1.0.0/24', { ipProtocol: UDP, port: [500, 4500] })]);
  });

  it('narrows IPv6 and ignores selectors of the other family', () => {
    const r = narrowTrafficSelectors(
      { TSi: [sel('2001:db8:1::/48'), sel('198.51.100.0/24')], TSr: [sel('::/0')] },
      { remote: [sel('2001:db8:1:2::/64')], local: [sel('2001:db8:ffff::/48')] },
    );
    expect(r).toEqual({ ok: true, value: { TSi: [sel('2001:db8:1:2::/64')], TSr: [sel('2001:db8:ffff::/48')] } });
  });

  it('keeps offered order and drops duplicates', () => {
    const out = narrow([sel('10.0.1.0/24'), sel('10.0.0.0/16'), sel('10.0.0.0/24')], [sel('10.0.0.0/24'), sel('10.0.1.0/24')]);
    expect(out).toEqual([sel('10.0.1.0/24'), sel('10.0.0.0/24')]);
  });

  it('answers with the selectors it was given when the intersection is one of them, and with the configured list when that is the answer', () => {
    const configured = [sel('10.2.0.0/16')];
    const wide = sel('0.0.0.0/0');
    expect(intersect(wide, configured[0]!)).toBe(configured[0]);
    const narrowOffer = sel('10.2.3.0/24');
    expect(intersect(narrowOffer, configured[0]!)).toBe(narrowOffer);
    expect(narrow([wide], configured)).toBe(configured);
    // Another answer is a list of its own; the configured selector is still shared.
    const two = [sel('10.2.0.0/16'), sel('10.3.0.0/16')];
    const out = narrow([wide], two);
    expect(out).toBe(two);
    const partial = narrow([sel('10.2.0.0/15')], [sel('10.2.0.0/16'), sel('10.4.0.0/16')]);
    expect(partial).toEqual([sel('10.2.0.0/16')]);
    // A protocol narrowed by the offer: the offered selector is the answer, not the configured one.
    const offeredTcp = sel('10.2.0.0/16', { ipProtocol: TCP });
    expect(intersect(offeredTcp, configured[0]!)).toBe(offeredTcp);
    // Neither side as it was: a selector of its own.
    const mixed = intersect(sel('10.2.0.0/24', { ipProtocol: TCP }), sel('10.2.0.0/25'));
    expect(mixed).toEqual(sel('10.2.0.0/25', { ipProtocol: TCP }));
  });
});

describe('isSubsetOf (initiator checks the response)', () => {
  const offered = [sel('10.0.0.0/24', { ipProtocol: TCP }), sel('10.9.0.0/16')];

  it('accepts selectors inside one offered selector', () => {
    expect(isSubsetOf([sel('10.0.0.5', { ipProtocol: TCP, port: 80 }), sel('10.9.3.0/24')], offered)).toBe(true);
    expect(isSubsetOf(offered, offered)).toBe(true);
    expect(isSubsetOf([sel('10.9.0.1', { port: [65535, 0] })], offered)).toBe(true); // OPAQUE lies inside "any port"
  });

  it('rejects a widened address range, protocol, port range or family, and an empty answer', () => {
    expect(isSubsetOf([sel('10.0.0.0/23', { ipProtocol: TCP })], offered)).toBe(false);
    expect(isSubsetOf([sel('10.0.0.0/24')], offered)).toBe(false);
    expect(isSubsetOf([sel('10.9.0.0/16', { port: [0, 65535] }), sel('10.9.0.0/15')], offered)).toBe(false);
    expect(isSubsetOf([sel('10.0.0.1', { ipProtocol: TCP, port: [65535, 0] })], [sel('10.0.0.0/24', { ipProtocol: TCP, port: 80 })])).toBe(false);
    expect(isSubsetOf([sel('::/0')], offered)).toBe(false);
    expect(isSubsetOf([], offered)).toBe(false);
  });

  const octet = fc.integer({ min: 0, max: 255 });
  const arbSelector = fc
    .record({ a: octet, b: octet, proto: fc.constantFrom(0, TCP, UDP), p1: fc.integer({ min: 0, max: 3 }), p2: fc.integer({ min: 0, max: 3 }) })
    .map(({ a, b, proto, p1, p2 }) =>
      range(`10.0.0.${Math.min(a, b)}`, `10.0.0.${Math.max(a, b)}`, { ipProtocol: proto, startPort: Math.min(p1, p2) * 1000, endPort: Math.max(p1, p2) * 1000 + 999 }),
    );

  it('narrow() only ever returns subsets of both sides (property)', () => {
    fc.assert(
      fc.property(fc.array(arbSelector, { minLength: 1, maxLength: 4 }), fc.array(arbSelector, { minLength: 1, maxLength: 4 }), (o, c) => {
        const n = narrow(o, c);
        if (n.length === 0) return;
        expect(isSubsetOf(n, o)).toBe(true);
        expect(isSubsetOf(n, c)).toBe(true);
      }),
    );
  });
});

describe('formatSelector', () => {
  it.each([
    [sel('198.51.100.0/24'), '198.51.100.0/24'],
    [sel('192.0.2.1'), '192.0.2.1/32'],
    [sel('0.0.0.0/0'), '0.0.0.0/0'],
    [sel('2001:db8::/64'), '2001:db8::/64'],
    [range('192.0.2.10', '192.0.2.20'), '192.0.2.10-192.0.2.20'],
    [range('192.0.2.1', '192.0.2.2'), '192.0.2.1-192.0.2.2'],
    // A CIDR block only when the size is a power of two and the start aligned to it.
    [range('192.0.2.0', '192.0.2.127'), '192.0.2.0/25'],
    [range('192.0.2.4', '192.0.2.7'), '192.0.2.4/30'],
    [range('192.0.2.2', '192.0.2.5'), '192.0.2.2-192.0.2.5'],
    [range('192.0.2.0', '192.0.2.2'), '192.0.2.0-192.0.2.2'],
    [range('128.0.0.0', '255.255.255.255'), '128.0.0.0/1'],
    [range('2001:db8::', '2001:db8::3'), '2001:db8::/126'],
    [range('2001:db8::1', '2001:db8::4'), '2001:db8::1-2001:db8::4'],
    [sel('10.0.0.0/8', { ipProtocol: TCP }), '10.0.0.0/8[tcp]'],
    [sel('10.0.0.0/8', { ipProtocol: TCP, port: 80 }), '10.0.0.0/8[tcp/80]'],
    [sel('10.0.0.0/8', { ipProtocol: UDP, port: [1024, 65535] }), '10.0.0.0/8[udp/1024-65535]'],
    [sel('10.0.0.0/8', { port: 53 }), '10.0.0.0/8[%any/53]'],
    [sel('10.0.0.0/8', { ipProtocol: ICMP, port: [65535, 0] }), '10.0.0.0/8[icmp/OPAQUE]'],
    [sel('10.0.0.0/8', { ipProtocol: 99 }), '10.0.0.0/8[99]'],
  ])('%j prints as %s', (s, text) => {
    expect(formatSelector(s)).toBe(text);
  });

  it('prints what parseSelector reads back', () => {
    for (const text of ['10.0.0.0/8[tcp/443]', '2001:db8::/32[udp/500-4500]', '192.0.2.10-192.0.2.20', '192.0.2.1/32[icmp/OPAQUE]']) {
      const r = parseSelector(text);
      expect(r.ok && formatSelector(r.value)).toBe(text);
    }
  });
});
