/**
 * fast-check arbitraries for every IKEv2 wire model: payloads, payload chains, headers, whole
 * messages, typed notify data and identities. Reusable by other test suites (protocol layer,
 * replay) that need valid messages.
 *
 * Every value generated here is *canonical*: optional fields are either absent or hold a
 * non-default value (a RESERVED field is never `0`, `critical` is never `false` on a known
 * payload), because that is what `decodeMessage` produces. So for any generated message `m`,
 * `decodeMessage(encodeMessage(m))` deep-equals `m`.
 */
import fc from 'fast-check';
import {
  checkNotifyFields,
  formatIp,
  isKnownPayloadType,
  notifyPayload,
  PayloadType,
  TsType,
  type AddressRangeSelector,
  type AuthPayload,
  type CertPayload,
  type CertReqPayload,
  type ConfigurationAttribute,
  type CpPayload,
  type DeletePayload,
  type EapPayload,
  type IdPayload,
  type Identity,
  type IkeHeader,
  type IkeMessage,
  type KePayload,
  type KnownPayloadType,
  type NoncePayload,
  type NotifyData,
  type NotifyPayload,
  type OpaqueSelector,
  type Payload,
  type PayloadHeaderFields,
  type Proposal,
  type SaPayload,
  type SkfPayload,
  type SkPayload,
  type TrafficSelector,
  type Transform,
  type TransformAttribute,
  type TsPayload,
  type UnknownPayload,
  type VendorIdPayload,
} from '../../src/wire/index.js';

// ---- building blocks ----

export function bytes(minLength: number, maxLength: number): fc.Arbitrary<Buffer> {
  return fc.uint8Array({ minLength, maxLength }).map((u) => Buffer.from(u));
}

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

/** Mostly absent (the common case on the wire), sometimes a non-zero value in 1..max. */
function rareNonZero(max: number): fc.Arbitrary<number | undefined> {
  return fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 5 },
    { arbitrary: fc.integer({ min: 1, max }), weight: 1 },
  );
}

/** Drops keys whose value is undefined, so generated objects look like decoded ones. */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

export const payloadHeaderFieldsArb: fc.Arbitrary<PayloadHeaderFields> = fc
  .record({
    critical: fc.oneof({ arbitrary: fc.constant(undefined), weight: 8 }, { arbitrary: fc.constant(true as const), weight: 1 }),
    headerReserved: rareNonZero(0x7f),
  })
  .map(compact);

function withHeaderFields<T extends object>(body: fc.Arbitrary<T>): fc.Arbitrary<T & PayloadHeaderFields> {
  return fc.tuple(body, payloadHeaderFieldsArb).map(([b, h]) => ({ ...b, ...h }));
}

// ---- SA (RFC 7296 3.3) ----

export const transformAttributeArb: fc.Arbitrary<TransformAttribute> = fc.oneof(
  fc.record({ format: fc.constant('TV' as const), attributeType: fc.integer({ min: 0, max: 0x7fff }), value: u16 }),
  fc.record({ format: fc.constant('TLV' as const), attributeType: fc.integer({ min: 0, max: 0x7fff }), value: bytes(0, 8) }),
);

export const transformArb: fc.Arbitrary<Transform> = fc
  .record({
    transformType: u8,
    transformId: u16,
    attributes: fc.array(transformAttributeArb, { maxLength: 3 }),
    reserved: rareNonZero(0xff),
    reserved2: rareNonZero(0xff),
  })
  .map(compact);

export const proposalArb: fc.Arbitrary<Proposal> = fc
  .record({
    proposalNum: u8,
    protocolId: u8,
    spi: fc.oneof(fc.constant(Buffer.alloc(0)), bytes(4, 4), bytes(8, 8), bytes(0, 12)),
    transforms: fc.array(transformArb, { maxLength: 5 }),
    reserved: rareNonZero(0xff),
  })
  .map(compact);

export const saPayloadArb: fc.Arbitrary<SaPayload> = withHeaderFields(
  fc.record({ type: fc.constant(PayloadType.SA), proposals: fc.array(proposalArb, { minLength: 1, maxLength: 3 }) }),
);

// ---- KE, ID, CERT, CERTREQ, AUTH, Nonce, V (3.4 - 3.9, 3.12) ----

export const kePayloadArb: fc.Arbitrary<KePayload> = withHeaderFields(
  fc
    .record({ type: fc.constant(PayloadType.KE), dhGroup: u16, keData: bytes(1, 64), reserved: rareNonZero(0xffff) })
    .map(compact),
);

const idTypeAndData: fc.Arbitrary<{ idType: number; data: Buffer }> = fc.oneof(
  fc.record({ idType: fc.constant(1), data: bytes(4, 4) }),
  fc.record({ idType: fc.constant(5), data: bytes(16, 16) }),
  fc.record({ idType: u8.filter((t) => t !== 1 && t !== 5), data: bytes(0, 24) }),
);

export const idPayloadArb: fc.Arbitrary<IdPayload> = withHeaderFields(
  fc
    .record({
      type: fc.constantFrom(PayloadType.IDi, PayloadType.IDr),
      it: idTypeAndData,
      reserved: rareNonZero(0xffffff),
    })
    .map(({ type, it, reserved }) => compact({ type, idType: it.idType, data: it.data, reserved })),
);

export const identityArb: fc.Arbitrary<Identity> = fc.oneof(
  fc.ipV4().map((address) => ({ kind: 'ipv4' as const, address })),
  bytes(16, 16).map((b) => ({ kind: 'ipv6' as const, address: formatIp(b) })),
  fc.domain().map((fqdn) => ({ kind: 'fqdn' as const, fqdn })),
  fc.emailAddress().map((rfc822) => ({ kind: 'rfc822' as const, rfc822 })),
  bytes(0, 16).map((keyId) => ({ kind: 'key-id' as const, keyId })),
  bytes(0, 16).map((der) => ({ kind: 'der-asn1-dn' as const, der })),
  bytes(0, 16).map((der) => ({ kind: 'der-asn1-gn' as const, der })),
  fc.constant({ kind: 'null' as const }),
  fc
    .record({ idType: u8.filter((t) => ![1, 2, 3, 5, 9, 10, 11, 13].includes(t)), data: bytes(0, 8) })
    .map((o) => ({ kind: 'other' as const, ...o })),
);

export const certPayloadArb: fc.Arbitrary<CertPayload> = withHeaderFields(
  fc.record({ type: fc.constant(PayloadType.CERT), encoding: u8, data: bytes(0, 48) }),
);

export const certReqPayloadArb: fc.Arbitrary<CertReqPayload> = withHeaderFields(
  fc.record({ type: fc.constant(PayloadType.CERTREQ), encoding: u8, authority: bytes(0, 60) }),
);

export const authPayloadArb: fc.Arbitrary<AuthPayload> = withHeaderFields(
  fc
    .record({ type: fc.constant(PayloadType.AUTH), method: u8, data: bytes(0, 48), reserved: rareNonZero(0xffffff) })
    .map(compact),
);

export const noncePayloadArb: fc.Arbitrary<NoncePayload> = withHeaderFields(
  fc.record({ type: fc.constant(PayloadType.Nonce), data: bytes(0, 64) }),
);

export const vendorIdPayloadArb: fc.Arbitrary<VendorIdPayload> = withHeaderFields(
  fc.record({ type: fc.constant(PayloadType.V), data: bytes(0, 32) }),
);

// ---- N (3.10) ----

const EMPTY = Buffer.alloc(0);

function isUntypedNotify(notifyType: number): boolean {
  // A notify type is "typed" when some data is refused for it; probe with odd-length junk.
  return checkNotifyFields({ notifyType, protocolId: 0, spi: EMPTY, data: Buffer.alloc(3) }) === undefined &&
    checkNotifyFields({ notifyType, protocolId: 0, spi: EMPTY, data: EMPTY }) === undefined;
}

/** Typed notify data, the inverse pair of `notifyPayload` / `notifyDataOf`. */
export const notifyDataArb: fc.Arbitrary<NotifyData> = fc.oneof(
  bytes(20, 20).map((hash) => ({ name: 'NAT_DETECTION_SOURCE_IP' as const, hash })),
  bytes(20, 20).map((hash) => ({ name: 'NAT_DETECTION_DESTINATION_IP' as const, hash })),
  bytes(1, 64).map((cookie) => ({ name: 'COOKIE' as const, cookie })),
  u16.map((dhGroup) => ({ name: 'INVALID_KE_PAYLOAD' as const, dhGroup })),
  fc.record({ protocolId: u8, spi: bytes(1, 8) }).map((o) => ({ name: 'REKEY_SA' as const, ...o })),
  u32.map((windowSize) => ({ name: 'SET_WINDOW_SIZE' as const, windowSize })),
  fc.array(u16, { maxLength: 6 }).map((hashAlgorithms) => ({ name: 'SIGNATURE_HASH_ALGORITHMS' as const, hashAlgorithms })),
  fc.constantFrom(
    'INITIAL_CONTACT',
    'USE_TRANSPORT_MODE',
    'ESP_TFC_PADDING_NOT_SUPPORTED',
    'NON_FIRST_FRAGMENTS_ALSO',
    'MOBIKE_SUPPORTED',
    'IKEV2_FRAGMENTATION_SUPPORTED',
  ).map((name) => ({ name })),
  fc
    .record({ notifyType: u16.filter(isUntypedNotify), protocolId: u8, spi: bytes(0, 8), data: bytes(0, 32) })
    .map((o) => ({ name: 'other' as const, ...o })),
);

export const notifyPayloadArb: fc.Arbitrary<NotifyPayload> = withHeaderFields(
  fc.oneof(
    notifyDataArb.map(notifyPayload),
    // A typed notify with the stray SPI / protocol a peer may send (RFC 7296 3.10 says empty).
    fc
      .tuple(notifyDataArb, u8, bytes(1, 8))
      .filter(([d]) => d.name !== 'REKEY_SA' && d.name !== 'other')
      .map(([d, protocolId, spi]) => ({ ...notifyPayload(d), protocolId, spi })),
  ),
);

// ---- D (3.11) ----

export const deletePayloadArb: fc.Arbitrary<DeletePayload> = withHeaderFields(
  fc
    .tuple(u8, fc.integer({ min: 0, max: 8 }))
    .chain(([protocolId, spiSize]) =>
      fc.array(bytes(spiSize, spiSize), { maxLength: 4 }).map((spis) => ({ type: PayloadType.D, protocolId, spiSize, spis })),
    ),
);

// ---- TSi / TSr (3.13) ----

export const addressRangeArb: fc.Arbitrary<AddressRangeSelector> = fc
  .constantFrom(TsType.TS_IPV4_ADDR_RANGE, TsType.TS_IPV6_ADDR_RANGE)
  .chain((tsType) => {
    const n = tsType === TsType.TS_IPV4_ADDR_RANGE ? 4 : 16;
    return fc.record({
      tsType: fc.constant(tsType),
      ipProtocolId: u8,
      startPort: u16,
      endPort: u16,
      startAddress: bytes(n, n),
      endAddress: bytes(n, n),
    });
  });

export const opaqueSelectorArb: fc.Arbitrary<OpaqueSelector> = fc.record({
  tsType: u8.filter((t) => t !== TsType.TS_IPV4_ADDR_RANGE && t !== TsType.TS_IPV6_ADDR_RANGE),
  octet1: u8,
  data: bytes(0, 12),
});

export const trafficSelectorArb: fc.Arbitrary<TrafficSelector> = fc.oneof(
  { arbitrary: addressRangeArb, weight: 3 },
  { arbitrary: opaqueSelectorArb, weight: 1 },
);

export const tsPayloadArb: fc.Arbitrary<TsPayload> = withHeaderFields(
  fc
    .record({
      type: fc.constantFrom(PayloadType.TSi, PayloadType.TSr),
      selectors: fc.array(trafficSelectorArb, { maxLength: 4 }),
      reserved: rareNonZero(0xffffff),
    })
    .map(compact),
);

// ---- SK, SKF (3.14, RFC 7383) ----

export const skPayloadArb: fc.Arbitrary<SkPayload> = withHeaderFields(
  fc.record({ type: fc.constant(PayloadType.SK), firstInnerPayload: u8, body: bytes(0, 64) }),
);

export const skfPayloadArb: fc.Arbitrary<SkfPayload> = withHeaderFields(
  fc
    .integer({ min: 1, max: 0xffff })
    .chain((totalFragments) =>
      fc.record({
        type: fc.constant(PayloadType.SKF),
        firstInnerPayload: u8,
        fragmentNumber: fc.integer({ min: 1, max: totalFragments }),
        totalFragments: fc.constant(totalFragments),
        body: bytes(0, 64),
      }),
    ),
);

// ---- CP (3.15), EAP (3.16) ----

export const configurationAttributeArb: fc.Arbitrary<ConfigurationAttribute> = fc
  .record({
    attributeType: fc.integer({ min: 0, max: 0x7fff }),
    value: bytes(0, 17),
    reserved: rareNonZero(1),
  })
  .map(compact);

export const cpPayloadArb: fc.Arbitrary<CpPayload> = withHeaderFields(
  fc
    .record({
      type: fc.constant(PayloadType.CP),
      cfgType: u8,
      attributes: fc.array(configurationAttributeArb, { maxLength: 5 }),
      reserved: rareNonZero(0xffffff),
    })
    .map(compact),
);

export const eapPayloadArb: fc.Arbitrary<EapPayload> = withHeaderFields(
  fc.tuple(u8, u8, bytes(0, 24)).map(([code, identifier, rest]) => {
    const message = Buffer.concat([Buffer.from([code, identifier, 0, 0]), rest]);
    message.writeUInt16BE(message.length, 2);
    return { type: PayloadType.EAP, message };
  }),
);

// ---- unknown (RFC 7296 2.5) ----

export const unknownPayloadTypeArb: fc.Arbitrary<number> = fc.integer({ min: 1, max: 255 }).filter((t) => !isKnownPayloadType(t));

export const unknownPayloadArb: fc.Arbitrary<UnknownPayload> = fc
  .record({
    unknown: fc.constant(true as const),
    type: unknownPayloadTypeArb,
    critical: fc.boolean(),
    headerReserved: rareNonZero(0x7f),
    body: bytes(0, 24),
  })
  .map(compact);

// ---- chains and messages ----

/** One arbitrary per known payload type (IDi/IDr and TSi/TSr share theirs). */
export const knownPayloadArbs: { [T in KnownPayloadType]: fc.Arbitrary<Payload> } = {
  [PayloadType.SA]: saPayloadArb,
  [PayloadType.KE]: kePayloadArb,
  [PayloadType.IDi]: idPayloadArb.map((p) => ({ ...p, type: PayloadType.IDi })),
  [PayloadType.IDr]: idPayloadArb.map((p) => ({ ...p, type: PayloadType.IDr })),
  [PayloadType.CERT]: certPayloadArb,
  [PayloadType.CERTREQ]: certReqPayloadArb,
  [PayloadType.AUTH]: authPayloadArb,
  [PayloadType.Nonce]: noncePayloadArb,
  [PayloadType.N]: notifyPayloadArb,
  [PayloadType.D]: deletePayloadArb,
  [PayloadType.V]: vendorIdPayloadArb,
  [PayloadType.TSi]: tsPayloadArb.map((p) => ({ ...p, type: PayloadType.TSi })),
  [PayloadType.TSr]: tsPayloadArb.map((p) => ({ ...p, type: PayloadType.TSr })),
  [PayloadType.SK]: skPayloadArb,
  [PayloadType.CP]: cpPayloadArb,
  [PayloadType.EAP]: eapPayloadArb,
  [PayloadType.SKF]: skfPayloadArb,
};

/** Any payload that may be followed by another one (everything but SK and SKF). */
export const plainPayloadArb: fc.Arbitrary<Payload> = fc.oneof(
  saPayloadArb,
  kePayloadArb,
  idPayloadArb,
  certPayloadArb,
  certReqPayloadArb,
  authPayloadArb,
  noncePayloadArb,
  notifyPayloadArb,
  deletePayloadArb,
  vendorIdPayloadArb,
  tsPayloadArb,
  cpPayloadArb,
  eapPayloadArb,
  unknownPayloadArb,
);

export const encryptedPayloadArb: fc.Arbitrary<SkPayload | SkfPayload> = fc.oneof(skPayloadArb, skfPayloadArb);

/** A valid payload chain: plain payloads, optionally ended by an SK or SKF payload. */
export const payloadChainArb: fc.Arbitrary<Payload[]> = fc
  .tuple(fc.array(plainPayloadArb, { maxLength: 6 }), fc.option(encryptedPayloadArb, { nil: undefined }))
  .map(([plain, encrypted]) => (encrypted ? [...plain, encrypted] : plain));

export const ikeHeaderArb: fc.Arbitrary<IkeHeader> = fc.record({
  spiI: bytes(8, 8),
  spiR: bytes(8, 8),
  majorVersion: fc.constant(2),
  minorVersion: fc.integer({ min: 0, max: 15 }),
  exchangeType: u8,
  flags: fc
    .record({
      initiator: fc.boolean(),
      version: fc.boolean(),
      response: fc.boolean(),
      // The flag bits other than I (0x08), V (0x10), R (0x20).
      reserved: rareNonZero(0xff).map((v) => (v === undefined || (v & 0xc7) === 0 ? undefined : v & 0xc7)),
    })
    .map(compact),
  messageId: u32,
});

export const ikeMessageArb: fc.Arbitrary<IkeMessage> = fc.record({ header: ikeHeaderArb, payloads: payloadChainArb });
