/**
 * RFC 7383 IKE message fragmentation: fragmentProtectedMessage (sending) and openFragmentMessage /
 * FragmentReassembler (receiving), under every encryption suite of the crypto registry.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSkProtection, sealSkBody, skBodyLength, type SkProtection } from '../../src/crypto/sk-payload.js';
import type { AeadTransform, CipherTransform, IntegrityTransform, RandomPort } from '../../src/crypto/types.js';
import {
  DEFAULT_REASSEMBLY_LIMITS,
  FragmentReassembler,
  openFragmentMessage,
  type ReassemblyResult,
} from '../../src/ikev2/fragment-reassembly.js';
import {
  DEFAULT_MAX_DATAGRAM_SIZE,
  defaultFragmentationPolicy,
  fragmentProtectedMessage,
  ikeMessageBudget,
  type FragmentationPolicy,
} from '../../src/ikev2/fragment-sending.js';
import { decodeProtectedMessage, encodeProtectedMessage } from '../../src/ikev2/protected-message.js';
import {
  AuthMethod,
  CertEncoding,
  EncrId,
  ExchangeType,
  PayloadType,
  ProtocolId,
  TransformType,
  addressRange,
  authPayload,
  certPayload,
  certReqPayload,
  decodeMessage,
  encodeSkfPrefix,
  idPayload,
  notifyPayload,
  saPayload,
  transform,
  tsPayload,
  vendorIdPayload,
  type IkeHeader,
  type IkeMessage,
  type Payload,
  type SkfPayload,
} from '../../src/wire/index.js';
import { aeads, ciphers, integrities } from '../crypto/registry-transforms.js';

/** Deterministic key material: octet i = (seed + i) mod 256. */
const pattern = (length: number, seed: number): Buffer => Buffer.from(Array.from({ length }, (_, i) => (seed * 7 + i) & 0xff));

interface Suite {
  readonly name: string;
  readonly make: (seed: number) => SkProtection;
}

function cipherSuite(encryption: CipherTransform, integrity: IntegrityTransform): Suite {
  return {
    name: `${encryption.name} + ${integrity.name}`,
    make: (seed) =>
      createSkProtection({ encryption, integrity, encryptionKey: pattern(encryption.keyLength, seed), integrityKey: pattern(integrity.keyLength, seed + 50) }),
  };
}
function aeadSuite(encryption: AeadTransform): Suite {
  return { name: encryption.name, make: (seed) => createSkProtection({ encryption, encryptionKey: pattern(encryption.keyLength, seed) }) };
}

/** Every cipher with every integrity transform, and every AEAD: the registry's whole SK space. */
const suites: Suite[] = [...ciphers.flatMap((c) => integrities.map((i) => cipherSuite(c, i))), ...aeads.map(aeadSuite)];
const byName = (fragment: string): Suite => {
  const suite = suites.find((s) => s.name.includes(fragment));
  if (suite === undefined) throw new Error(`no suite ${fragment}`);
  return suite;
};
const CBC = byName('ENCR_AES_CBC_256 + AUTH_HMAC_SHA2_256_128');
const GCM = byName('ENCR_AES_GCM_16_256');

/** A RandomPort that counts up, so every run draws the same IVs. */
function countingRandom(start = 1): RandomPort {
  let next = start;
  return (n: number) => Buffer.from(Array.from({ length: n }, () => next++ & 0xff));
}

/** A seeded shuffle (mulberry32), so permutation failures reproduce. */
function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const header: IkeHeader = {
  spiI: Buffer.from('0123456789abcdef', 'hex'),
  spiR: Buffer.from('fedcba9876543210', 'hex'),
  majorVersion: 2,
  minorVersion: 0,
  exchangeType: ExchangeType.IKE_AUTH,
  flags: { initiator: true, version: false, response: false },
  messageId: 1,
};

/** An IKE_AUTH request with a 3 KB certificate (RFC 7296 1.2, 3.6): the message RFC 7383 exists for. */
function bigIkeAuthInner(certLength = 3000): Payload[] {
  return [
    idPayload(PayloadType.IDi, { kind: 'fqdn', fqdn: 'initiator.example' }),
    certPayload(CertEncoding.X509_SIGNATURE, pattern(certLength, 0x30)),
    certReqPayload(CertEncoding.X509_SIGNATURE, pattern(40, 0x11)),
    notifyPayload({ name: 'INITIAL_CONTACT' }),
    idPayload(PayloadType.IDr, { kind: 'fqdn', fqdn: 'responder.example' }),
    authPayload(AuthMethod.RSA_DIGITAL_SIGNATURE, pattern(256, 0x40)),
    saPayload([
      {
        proposalNum: 1,
        protocolId: ProtocolId.ESP,
        spi: Buffer.from('c0ffee01', 'hex'),
        transforms: [transform(TransformType.ENCR, EncrId.ENCR_AES_GCM_16, 256), transform(TransformType.ESN, 0)],
      },
    ]),
    tsPayload(PayloadType.TSi, [addressRange('198.51.100.0', '198.51.100.255')]),
    tsPayload(PayloadType.TSr, [addressRange('203.0.113.1', '203.0.113.1', { ipProtocolId: 17, startPort: 53, endPort: 53 })]),
  ];
}

/** A small IKE_AUTH request (shared-key AUTH) whose size is tuned by its CERT payload. */
function smallIkeAuthInner(certLength: number): Payload[] {
  return [
    idPayload(PayloadType.IDi, { kind: 'fqdn', fqdn: 'initiator.example' }),
    certPayload(CertEncoding.X509_SIGNATURE, pattern(certLength, 0x30)),
    authPayload(AuthMethod.SHARED_KEY_MIC, pattern(32, 0x40)),
  ];
}

const V4_NATT: FragmentationPolicy = defaultFragmentationPolicy(4, true);
const V6: FragmentationPolicy = defaultFragmentationPolicy(6, false);

function decode(bytes: Buffer): IkeMessage {
  const decoded = decodeMessage(bytes);
  if (!decoded.ok) throw new Error(`does not decode: ${decoded.error.message}`);
  return decoded.value;
}
function skfOf(message: IkeMessage): SkfPayload {
  const last = message.payloads[message.payloads.length - 1];
  if (last === undefined || last.type !== PayloadType.SKF) throw new Error('no SKF payload');
  return last as SkfPayload;
}
/** Feeds datagrams in the given order; returns every result. */
function feed(reassembler: FragmentReassembler, datagrams: readonly Buffer[], protection: SkProtection): ReassemblyResult[] {
  return datagrams.map((d) => reassembler.accept(decode(d), d, protection));
}
const flip = (bytes: Buffer, at: number): Buffer => {
  const copy = Buffer.from(bytes);
  copy[at] = copy[at]! ^ 0x01;
  return copy;
};

describe('ikeMessageBudget (RFC 7383 2.5.1)', () => {
  it('takes the IP header, the UDP header and the non-ESP marker off the datagram size', () => {
    expect(DEFAULT_MAX_DATAGRAM_SIZE).toEqual({ 4: 576, 6: 1280 });
    expect(ikeMessageBudget(defaultFragmentationPolicy(4, false))).toBe(576 - 20 - 8);
    expect(ikeMessageBudget(defaultFragmentationPolicy(4, true))).toBe(576 - 20 - 8 - 4);
    expect(ikeMessageBudget(defaultFragmentationPolicy(6, false))).toBe(1280 - 40 - 8);
    expect(ikeMessageBudget(defaultFragmentationPolicy(6, true))).toBe(1280 - 40 - 8 - 4);
    expect(ikeMessageBudget({ maxDatagramSize: 1500, ipVersion: 4, nattMarker: false })).toBe(1472);
  });

  it('refuses a policy that leaves no room for an IKE message', () => {
    expect(() => ikeMessageBudget({ maxDatagramSize: 56, ipVersion: 4, nattMarker: false })).toThrow(RangeError);
    expect(() => ikeMessageBudget({ maxDatagramSize: 1280.5, ipVersion: 6, nattMarker: false })).toThrow(RangeError);
    expect(() => ikeMessageBudget({ maxDatagramSize: 1280, ipVersion: 5 as 4, nattMarker: false })).toThrow(RangeError);
  });
});

describe.each(suites)('fragmentation under $name', (suite) => {
  const inner = bigIkeAuthInner();

  it('splits a 3 KB IKE_AUTH into SKF messages that each fit a 576-octet IPv4 datagram on port 4500', () => {
    const budget = ikeMessageBudget(V4_NATT);
    const datagrams = fragmentProtectedMessage(header, inner, suite.make(1), countingRandom(), V4_NATT);
    const n = datagrams.length;
    expect(n).toBeGreaterThan(5);
    // As few fragments as the budget allows: the plaintext would not fit one fragment fewer.
    const perFragmentOverhead = 28 + 8 + skBodyLength(suite.make(1), 0) - 1; // header, SKF header, IV, ICV (+ Pad Length)
    const plaintext = datagrams.reduce((sum, d) => sum + d.length, 0) - n * perFragmentOverhead;
    expect(plaintext).toBeGreaterThan(3000);
    expect((n - 1) * (budget - perFragmentOverhead)).toBeLessThan(plaintext);

    datagrams.forEach((d, k) => {
      const where = `fragment ${k + 1} of ${n}`;
      expect(d.length + 20 + 8 + 4, where).toBeLessThanOrEqual(576);
      expect(d.readUInt32BE(24), where).toBe(d.length); // RFC 7296 3.1 Length
      expect(d[16], where).toBe(PayloadType.SKF); // header Next Payload
      const message = decode(d);
      expect(message.header, where).toEqual(header); // taken intact (RFC 7383 2.5)
      expect(message.payloads, where).toHaveLength(1);
      const skf = skfOf(message);
      expect(skf.fragmentNumber, where).toBe(k + 1);
      expect(skf.totalFragments, where).toBe(n);
      // RFC 7383 2.5: the first inner payload type in fragment 1, zero in the others.
      expect(skf.firstInnerPayload, where).toBe(k === 0 ? PayloadType.IDi : PayloadType.NONE);
      // A fragment is not an SK message: decodeProtectedMessage sends it here.
      expect(decodeProtectedMessage(d, suite.make(1)), where).toEqual({ ok: false, error: { kind: 'fragment' } });
    });
    // Evenly filled: sizes differ by at most one cipher block (padding), no tiny last fragment.
    const lengths = datagrams.map((d) => d.length);
    expect(Math.max(...lengths) - Math.min(...lengths)).toBeLessThanOrEqual(suite.make(1).encryption.blockSize);
  });

  it('reassembles in order, in reverse and in shuffled orders with duplicates, to exactly the inner payloads', () => {
    const protection = suite.make(2);
    const datagrams = fragmentProtectedMessage(header, inner, protection, countingRandom(), V4_NATT);
    const n = datagrams.length;
    const orders = [datagrams.map((_, i) => i), datagrams.map((_, i) => n - 1 - i), ...[1, 2, 3].map((seed) => seededShuffle(datagrams.map((_, i) => i), seed))];
    for (const order of orders) {
      const reassembler = new FragmentReassembler(DEFAULT_REASSEMBLY_LIMITS);
      // Every fragment but the last arrives twice; the duplicate changes nothing.
      const arrivals = order.slice(0, -1).flatMap((i) => [i, i]);
      const results = feed(reassembler, arrivals.map((i) => datagrams[i]!), protection);
      expect(results.map((r) => r.kind)).toEqual(arrivals.map(() => 'incomplete'));
      expect(results[results.length - 1]).toEqual({ kind: 'incomplete', received: n - 1, total: n });
      const last = datagrams[order[n - 1]!]!;
      const done = reassembler.accept(decode(last), last, protection);
      expect(done.kind, `order ${order.join(',')}`).toBe('complete');
      if (done.kind !== 'complete') return;
      expect(done.inner).toEqual(inner);
      expect(done.message.header).toEqual(header);
      expect(skfOf(done.message).fragmentNumber).toBe(1);
    }
  });

  it('rejects a tampered fragment without poisoning the set, and refuses the wrong key', () => {
    const protection = suite.make(3);
    const datagrams = fragmentProtectedMessage(header, inner, protection, countingRandom(), V4_NATT);
    const reassembler = new FragmentReassembler();
    const [first, second, ...rest] = datagrams;
    expect(reassembler.accept(decode(first!), first!, protection).kind).toBe('incomplete');

    // Tamper with fragment 2: header flags, SKF RESERVED, the IV, the ciphertext, the ICV.
    for (const at of [19, 29, 36, Math.floor((36 + second!.length) / 2), second!.length - 1]) {
      const tampered = flip(second!, at);
      const result = reassembler.accept(decode(tampered), tampered, protection);
      if (at === 19) {
        // The Flags octet is part of the message's identity: caught before any crypto.
        expect(result, `octet ${at}`).toEqual({ kind: 'rejected', reason: { kind: 'other-message' } });
      } else {
        expect(result, `octet ${at}`).toEqual({ kind: 'rejected', reason: { kind: 'sk-open', error: { kind: 'bad-icv' } } });
      }
    }
    // The wrong key (or the wrong direction's key) is refused the same way.
    expect(reassembler.accept(decode(second!), second!, suite.make(4))).toEqual({ kind: 'rejected', reason: { kind: 'sk-open', error: { kind: 'bad-icv' } } });

    // The genuine fragments still complete the message.
    const results = feed(reassembler, [second!, ...rest], protection);
    const done = results[results.length - 1]!;
    expect(done.kind).toBe('complete');
    if (done.kind === 'complete') expect(done.inner).toEqual(inner);
  });

  it('fits fewer, larger fragments into IPv6 datagrams of 1280 octets', () => {
    const protection = suite.make(5);
    const v4 = fragmentProtectedMessage(header, inner, protection, countingRandom(), V4_NATT);
    const v6 = fragmentProtectedMessage(header, inner, protection, countingRandom(), V6);
    expect(v6.length).toBeLessThan(v4.length);
    for (const d of v6) expect(d.length + 40 + 8).toBeLessThanOrEqual(1280);
    const results = feed(new FragmentReassembler(), seededShuffle(v6, 7), protection);
    const done = results[results.length - 1]!;
    expect(done.kind === 'complete' && done.inner).toEqual(inner);
  });
});

describe('fragmentProtectedMessage', () => {
  it('sends a message that fits as the one SK datagram encodeProtectedMessage gives', () => {
    const inner = smallIkeAuthInner(100);
    for (const suite of [CBC, GCM]) {
      const [only, ...none] = fragmentProtectedMessage(header, inner, suite.make(1), countingRandom(5), V4_NATT);
      expect(none).toEqual([]);
      expect(only).toEqual(encodeProtectedMessage(header, inner, suite.make(1), countingRandom(5)));
      expect(only![16]).toBe(PayloadType.SK);
      expect(only!.length).toBeLessThanOrEqual(ikeMessageBudget(V4_NATT));
    }
  });

  it('fragments a message one octet too large, and keeps one that fits exactly (boundary)', () => {
    const protection = GCM.make(2); // 4-octet padding granularity: easy to land on the boundary
    const budget = ikeMessageBudget(V4_NATT);
    let certLength = 100;
    while (encodeProtectedMessage(header, smallIkeAuthInner(certLength + 1), protection, countingRandom()).length <= budget) certLength++;
    const fits = encodeProtectedMessage(header, smallIkeAuthInner(certLength), protection, countingRandom());
    expect(fits.length).toBeLessThanOrEqual(budget);
    expect(fragmentProtectedMessage(header, smallIkeAuthInner(certLength), protection, countingRandom(), V4_NATT)).toHaveLength(1);
    const over = fragmentProtectedMessage(header, smallIkeAuthInner(certLength + 1), protection, countingRandom(), V4_NATT);
    expect(over.length).toBeGreaterThanOrEqual(1);
    expect(over.every((d) => d[16] === PayloadType.SKF && d.length <= budget)).toBe(true);
    const results = feed(new FragmentReassembler(), over, protection);
    const done = results[results.length - 1]!;
    expect(done.kind === 'complete' && done.inner).toEqual(smallIkeAuthInner(certLength + 1));
  });

  it('is deterministic for a given random port: a retransmission resends the same bytes (RFC 7383 2.6.1)', () => {
    const inner = bigIkeAuthInner();
    const a = fragmentProtectedMessage(header, inner, CBC.make(3), countingRandom(9), V4_NATT);
    const b = fragmentProtectedMessage(header, inner, CBC.make(3), countingRandom(9), V4_NATT);
    const c = fragmentProtectedMessage(header, inner, CBC.make(3), countingRandom(10), V4_NATT);
    expect(a).toEqual(b);
    expect(a[0]!.equals(c[0]!)).toBe(false);
    // Each fragment draws its own IV, fragment 1 first: 16 octets right after the SKF fields.
    const random = countingRandom(9);
    for (const d of a) expect(d.subarray(36, 52)).toEqual(random(16));
  });

  it('puts unprotected payloads in fragment 1 only (RFC 7383 2.5.3)', () => {
    const protection = CBC.make(4);
    const vendor = vendorIdPayload(pattern(120, 3));
    const inner = bigIkeAuthInner();
    const datagrams = fragmentProtectedMessage(header, inner, protection, countingRandom(), V4_NATT, { precedingPayloads: [vendor] });
    expect(datagrams.length).toBeGreaterThan(2);
    const budget = ikeMessageBudget(V4_NATT);
    datagrams.forEach((d, k) => {
      expect(d.length).toBeLessThanOrEqual(budget);
      const message = decode(d);
      expect(message.payloads.map((p) => p.type)).toEqual(k === 0 ? [PayloadType.V, PayloadType.SKF] : [PayloadType.SKF]);
      expect(d[16]).toBe(k === 0 ? PayloadType.V : PayloadType.SKF);
    });
    const results = feed(new FragmentReassembler(), [...datagrams].reverse(), protection);
    const done = results[results.length - 1]!;
    expect(done.kind).toBe('complete');
    if (done.kind !== 'complete') return;
    expect(done.inner).toEqual(inner);
    expect(done.message.payloads[0]).toEqual(vendor);

    // The Vendor ID is covered by fragment 1's ICV.
    const tampered = flip(datagrams[0]!, 40);
    expect(new FragmentReassembler().accept(decode(tampered), tampered, protection)).toEqual({ kind: 'rejected', reason: { kind: 'sk-open', error: { kind: 'bad-icv' } } });
  });

  it('splits into at least minTotalFragments when asked (PMTU discovery, RFC 7383 2.5.2)', () => {
    const inner = bigIkeAuthInner();
    const protection = GCM.make(5);
    const natural = fragmentProtectedMessage(header, inner, protection, countingRandom(), V6);
    const more = fragmentProtectedMessage(header, inner, protection, countingRandom(), V6, { minTotalFragments: natural.length + 1 });
    expect(more).toHaveLength(natural.length + 1);
    expect(more.map((d) => skfOf(decode(d)).totalFragments)).toEqual(more.map(() => natural.length + 1));
    // Even a message that would fit unfragmented can be forced into fragments.
    const small = fragmentProtectedMessage(header, bigIkeAuthInner(10), protection, countingRandom(), V6, { minTotalFragments: 3 });
    expect(small.map((d) => skfOf(decode(d)).fragmentNumber)).toEqual([1, 2, 3]);
    const results = feed(new FragmentReassembler(), small, protection);
    const done = results[results.length - 1]!;
    expect(done.kind === 'complete' && done.inner).toEqual(bigIkeAuthInner(10));
  });

  it('throws on budgets and requests it cannot honour (programming errors, not hostile input)', () => {
    const inner = bigIkeAuthInner();
    // 60-octet budget: IKE header + SKF header + IV + ICV leave no plaintext room.
    expect(() => fragmentProtectedMessage(header, inner, CBC.make(1), countingRandom(), { maxDatagramSize: 88, ipVersion: 4, nattMarker: false })).toThrow(RangeError);
    expect(() => fragmentProtectedMessage(header, [], CBC.make(1), countingRandom(), V6, { minTotalFragments: 2 })).toThrow(RangeError);
    expect(() => fragmentProtectedMessage(header, inner, CBC.make(1), countingRandom(), V6, { minTotalFragments: 0 })).toThrow(RangeError);
    expect(() => fragmentProtectedMessage(header, inner, CBC.make(1), countingRandom(), V6, { minTotalFragments: 70_000 })).toThrow(RangeError);
    // A budget that holds a few plaintext octets per fragment would need more than 65535 fragments.
    // (IPv4 + UDP + IKE header + SKF header + GCM IV, 4-octet padded block and tag: 3 octets of plaintext.)
    const huge = [1, 2, 3, 4].map(() => certPayload(CertEncoding.X509_SIGNATURE, Buffer.alloc(60_000)));
    expect(() => fragmentProtectedMessage(header, huge, GCM.make(1), countingRandom(), { maxDatagramSize: 20 + 8 + 28 + 8 + 8 + 4 + 16, ipVersion: 4, nattMarker: false })).toThrow(/65535/);
  });

  it('round-trips any inner size, budget, suite and arrival order (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: suites.length - 1 }),
        fc.integer({ min: 0, max: 6000 }),
        fc.integer({ min: 200, max: 1500 }),
        fc.boolean(),
        fc.integer(),
        (suiteIndex, certLength, maxDatagramSize, nattMarker, seed) => {
          const protection = suites[suiteIndex]!.make(seed & 0xff);
          const inner = bigIkeAuthInner(certLength);
          const policy: FragmentationPolicy = { maxDatagramSize, ipVersion: 4, nattMarker };
          const budget = ikeMessageBudget(policy);
          const datagrams = fragmentProtectedMessage(header, inner, protection, countingRandom(seed), policy);
          expect(datagrams.every((d) => d.length <= budget)).toBe(true);
          if (datagrams.length === 1 && datagrams[0]![16] === PayloadType.SK) {
            const opened = decodeProtectedMessage(datagrams[0]!, protection);
            expect(opened.ok && opened.value.inner).toEqual(inner);
            return;
          }
          const results = feed(new FragmentReassembler({ maxFragments: 0xffff, maxBytes: 1 << 20 }), seededShuffle(datagrams, seed), protection);
          expect(results.slice(0, -1).every((r) => r.kind === 'incomplete')).toBe(true);
          const done = results[results.length - 1]!;
          expect(done.kind === 'complete' && done.inner).toEqual(inner);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('FragmentReassembler: Total Fragments, limits and identity (RFC 7383 2.6)', () => {
  const inner = bigIkeAuthInner();

  it('restarts with a re-fragmented message that has a larger Total Fragments, and then discards the old, smaller one', () => {
    const protection = CBC.make(6);
    const old = fragmentProtectedMessage(header, inner, protection, countingRandom(1), V6);
    const renewed = fragmentProtectedMessage(header, inner, protection, countingRandom(500), V4_NATT);
    expect(renewed.length).toBeGreaterThan(old.length);
    const reassembler = new FragmentReassembler();
    // Two of the old fragments arrive, then the sender re-fragments with a smaller size (2.5.2).
    expect(feed(reassembler, old.slice(0, 2), protection).map((r) => r.kind)).toEqual(['incomplete', 'incomplete']);
    expect(reassembler.accept(decode(renewed[3]!), renewed[3]!, protection)).toEqual({ kind: 'incomplete', received: 1, total: renewed.length });
    // Late fragments of the superseded set are discarded, fragment 1 included.
    for (const late of [old[0]!, old[old.length - 1]!]) {
      expect(reassembler.accept(decode(late), late, protection)).toEqual({
        kind: 'rejected',
        reason: { kind: 'stale-total', totalFragments: old.length, current: renewed.length },
      });
    }
    const results = feed(reassembler, renewed.filter((_, i) => i !== 3), protection);
    const done = results[results.length - 1]!;
    expect(done.kind === 'complete' && done.inner).toEqual(inner);
  });

  it('does not let an unauthenticated larger Total Fragments throw the genuine set away', () => {
    const protection = GCM.make(7);
    const genuine = fragmentProtectedMessage(header, inner, protection, countingRandom(1), V6);
    const larger = fragmentProtectedMessage(header, inner, protection, countingRandom(900), V6, { minTotalFragments: genuine.length + 2 });
    const reassembler = new FragmentReassembler();
    feed(reassembler, genuine.slice(0, -1), protection);
    const forged = flip(larger[0]!, larger[0]!.length - 1);
    expect(reassembler.accept(decode(forged), forged, protection).kind).toBe('rejected');
    // With the wrong key, too: only the real peer can make the receiver start over.
    expect(reassembler.accept(decode(larger[0]!), larger[0]!, GCM.make(8)).kind).toBe('rejected');
    const last = genuine[genuine.length - 1]!;
    const done = reassembler.accept(decode(last), last, protection);
    expect(done.kind === 'complete' && done.inner).toEqual(inner);
  });

  it('refuses a Total Fragments above maxFragments before any crypto', () => {
    const protection = CBC.make(9);
    const datagrams = fragmentProtectedMessage(header, inner, protection, countingRandom(), V4_NATT);
    const reassembler = new FragmentReassembler({ maxFragments: datagrams.length - 1, maxBytes: 65_535 });
    expect(reassembler.accept(decode(datagrams[0]!), datagrams[0]!, protection)).toEqual({
      kind: 'rejected',
      reason: { kind: 'too-many-fragments', totalFragments: datagrams.length, limit: datagrams.length - 1 },
    });
    // Exactly at the limit is fine.
    const results = feed(new FragmentReassembler({ maxFragments: datagrams.length, maxBytes: 65_535 }), datagrams, protection);
    expect(results[results.length - 1]!.kind).toBe('complete');
  });

  it('abandons a set whose plaintext would pass maxBytes', () => {
    const protection = CBC.make(10);
    const datagrams = fragmentProtectedMessage(header, inner, protection, countingRandom(), V4_NATT);
    const reassembler = new FragmentReassembler({ maxFragments: 64, maxBytes: 1500 });
    const results = feed(reassembler, datagrams, protection);
    const firstRefusal = results.findIndex((r) => r.kind === 'rejected');
    expect(firstRefusal).toBeGreaterThan(0);
    expect(results[firstRefusal]).toMatchObject({ kind: 'rejected', reason: { kind: 'too-many-bytes', limit: 1500 } });
    // The set was dropped: the next fragment starts a new one.
    expect(results[firstRefusal + 1]).toEqual({ kind: 'incomplete', received: 1, total: datagrams.length });
    expect(results.some((r) => r.kind === 'complete')).toBe(false);
    // The same fragments fit a large enough limit.
    const enough = feed(new FragmentReassembler({ maxFragments: 64, maxBytes: 4000 }), datagrams, protection);
    expect(enough[enough.length - 1]!.kind).toBe('complete');
  });

  it('refuses fragments of another message, non-fragments, and anything after completion until reset()', () => {
    const protection = CBC.make(11);
    const datagrams = fragmentProtectedMessage(header, inner, protection, countingRandom(), V4_NATT);
    const otherId = fragmentProtectedMessage({ ...header, messageId: 2 }, inner, protection, countingRandom(), V4_NATT);
    const reassembler = new FragmentReassembler();
    reassembler.accept(decode(datagrams[0]!), datagrams[0]!, protection);
    expect(reassembler.accept(decode(otherId[1]!), otherId[1]!, protection)).toEqual({ kind: 'rejected', reason: { kind: 'other-message' } });
    const sk = encodeProtectedMessage(header, inner.slice(0, 1), protection, countingRandom());
    expect(reassembler.accept(decode(sk), sk, protection)).toEqual({ kind: 'rejected', reason: { kind: 'not-a-fragment' } });

    const results = feed(reassembler, datagrams.slice(1), protection);
    expect(results[results.length - 1]!.kind).toBe('complete');
    // A retransmitted fragment after completion: the machine answers retransmissions by Message ID.
    expect(reassembler.accept(decode(datagrams[0]!), datagrams[0]!, protection)).toEqual({ kind: 'rejected', reason: { kind: 'already-complete' } });
    reassembler.reset();
    const again = feed(reassembler, datagrams, protection);
    expect(again[again.length - 1]!.kind).toBe('complete');

    // reset() in the middle drops the held fragments.
    const partial = new FragmentReassembler();
    feed(partial, datagrams.slice(0, 3), protection);
    partial.reset();
    expect(partial.accept(decode(datagrams[3]!), datagrams[3]!, protection)).toEqual({ kind: 'incomplete', received: 1, total: datagrams.length });
  });

  it('abandons a set whose authenticated plaintext is not a payload chain', () => {
    const protection = GCM.make(12);
    // Two genuine-looking fragments whose chunks, joined, claim a 200-octet IDi that is not there.
    const chunks = [Buffer.from([0, 0]), Buffer.from([0, 200, 1, 2])];
    const datagrams = chunks.map((chunk, k) => {
      const prefix = encodeSkfPrefix(header, [], { firstInnerPayload: k === 0 ? PayloadType.IDi : 0, fragmentNumber: k + 1, totalFragments: 2, bodyLength: skBodyLength(protection, chunk.length) });
      return Buffer.concat([prefix, sealSkBody(protection, prefix, chunk, countingRandom(k * 100))]);
    });
    const reassembler = new FragmentReassembler();
    const results = feed(reassembler, datagrams, protection);
    expect(results[0]!.kind).toBe('incomplete');
    const last = results[1]!;
    expect(last.kind === 'rejected' && last.reason.kind === 'inner-parse' && last.reason.error.code).toBe('bad-payload-length');
    // Abandoned, not completed: the set starts over.
    expect(reassembler.accept(decode(datagrams[1]!), datagrams[1]!, protection)).toEqual({ kind: 'incomplete', received: 1, total: 2 });
  });

  it('validates its limits', () => {
    expect(() => new FragmentReassembler({ maxFragments: 0, maxBytes: 10 })).toThrow(RangeError);
    expect(() => new FragmentReassembler({ maxFragments: 70_000, maxBytes: 10 })).toThrow(RangeError);
    expect(() => new FragmentReassembler({ maxFragments: 4, maxBytes: 0 })).toThrow(RangeError);
  });
});

describe('openFragmentMessage', () => {
  const protection = CBC.make(13);
  const datagrams = fragmentProtectedMessage(header, bigIkeAuthInner(), protection, countingRandom(), V4_NATT);

  it('verifies and decrypts one fragment on its own: what a responder checks before answering a retransmission (RFC 7383 2.6.1)', () => {
    const opened = openFragmentMessage(decode(datagrams[0]!), datagrams[0]!, protection);
    expect(opened.ok).toBe(true);
    if (!opened.ok) return;
    expect(opened.value.fragmentNumber).toBe(1);
    expect(opened.value.totalFragments).toBe(datagrams.length);
    expect(opened.value.skf.firstInnerPayload).toBe(PayloadType.IDi);
    expect(opened.value.plaintext[0]).toBe(PayloadType.CERT); // IDi's Next Payload
    const tampered = flip(datagrams[0]!, 50);
    expect(openFragmentMessage(decode(tampered), tampered, protection)).toEqual({ ok: false, error: { kind: 'sk-open', error: { kind: 'bad-icv' } } });
  });

  it('refuses a later fragment that carries unprotected payloads (RFC 7383 2.5.3)', () => {
    const chunk = Buffer.from('not the first chunk');
    const prefix = encodeSkfPrefix(header, [vendorIdPayload(Buffer.from('V'))], { firstInnerPayload: 0, fragmentNumber: 2, totalFragments: 2, bodyLength: skBodyLength(protection, chunk.length) });
    const datagram = Buffer.concat([prefix, sealSkBody(protection, prefix, chunk, countingRandom())]);
    expect(openFragmentMessage(decode(datagram), datagram, protection)).toEqual({ ok: false, error: { kind: 'unprotected-payloads-after-first', fragmentNumber: 2 } });
    expect(new FragmentReassembler().accept(decode(datagram), datagram, protection)).toEqual({
      kind: 'rejected',
      reason: { kind: 'unprotected-payloads-after-first', fragmentNumber: 2 },
    });
  });

  it('says not-a-fragment for an SK message, and throws when the message was not decoded from the bytes', () => {
    const sk = encodeProtectedMessage(header, bigIkeAuthInner(10), protection, countingRandom());
    expect(openFragmentMessage(decode(sk), sk, protection)).toEqual({ ok: false, error: { kind: 'not-a-fragment' } });
    expect(() => openFragmentMessage(decode(datagrams[0]!), datagrams[1]!, protection)).toThrow(RangeError);
  });
});
