/**
 * The hostile IKE_SA_INIT requests of a parse-cost attack: a valid request padded to about 63 KB
 * with thousands of cheap payloads (empty Notifies, empty Vendor IDs) or with 255 Proposals of
 * 30 Transforms each. Each costs the sender nothing and, decoded whole, costs the receiver
 * thousands of objects. Shared by the wire and engine tests and bench/parse-hostile.bench.ts.
 */
import {
  DhId,
  EncrId,
  ExchangeType,
  IntegId,
  PayloadType,
  PrfId,
  ProtocolId,
  TransformType,
  decodeMessage,
  encodeMessage,
  kePayload,
  noncePayload,
  saPayload,
  transform,
  vendorIdPayload,
  type IkeMessage,
  type Payload,
  type Proposal,
  type Transform,
} from '../../src/wire/index.js';

export type HostileVariant = 'notifies' | 'vendor-ids' | 'proposals';

export const HOSTILE_VARIANTS: readonly HostileVariant[] = ['notifies', 'vendor-ids', 'proposals'];

/** A plain IKE_SA_INIT request (SA, KE, Nonce) that decodes: the base the hostile variants pad. */
export function plainIkeSaInit(): Buffer {
  const proposal: Proposal = {
    proposalNum: 1,
    protocolId: ProtocolId.IKE,
    spi: Buffer.alloc(0),
    transforms: [
      transform(TransformType.ENCR, EncrId.ENCR_AES_CBC, 256),
      transform(TransformType.PRF, PrfId.PRF_HMAC_SHA2_256),
      transform(TransformType.INTEG, IntegId.AUTH_HMAC_SHA2_256_128),
      transform(TransformType.DH, DhId.ECP_256),
    ],
  };
  return encodeMessage({
    header: {
      spiI: Buffer.from('0102030405060708', 'hex'),
      spiR: Buffer.alloc(8),
      majorVersion: 2,
      minorVersion: 0,
      exchangeType: ExchangeType.IKE_SA_INIT,
      flags: { initiator: true, version: false, response: false },
      messageId: 0,
    },
    payloads: [saPayload([proposal]), kePayload(DhId.ECP_256, Buffer.alloc(64, 7)), noncePayload(Buffer.alloc(32, 9))],
  });
}

/** An empty status Notify (8 octets on the wire): private-use type, ignored by any receiver. */
const emptyNotify = (): Payload => ({ type: PayloadType.N, protocolId: 0, spi: Buffer.alloc(0), notifyType: 40_960, data: Buffer.alloc(0) });

/**
 * `base` (a valid IKE_SA_INIT request) padded to about `targetOctets`:
 * - notifies: empty Notifies after its payloads (8 octets each: 7 900 for 63 KB);
 * - vendor-ids: empty Vendor IDs (4 octets each: 15 700 for 63 KB);
 * - proposals: its SA payload's first Proposal followed by 254 copies (the 255 a Proposal Num
 *   allows) padded with Transforms (about 30 each for 63 KB).
 */
export function hostileIkeSaInit(base: Uint8Array, variant: HostileVariant, targetOctets = 63_000): Buffer {
  const decoded = decodeMessage(base);
  if (!decoded.ok) throw decoded.error;
  const message: IkeMessage = decoded.value;
  const room = targetOctets - base.length;
  switch (variant) {
    case 'notifies':
      return encodeMessage({ ...message, payloads: [...message.payloads, ...Array.from({ length: Math.floor(room / 8) }, emptyNotify)] });
    case 'vendor-ids':
      return encodeMessage({ ...message, payloads: [...message.payloads, ...Array.from({ length: Math.floor(room / 4) }, () => vendorIdPayload(Buffer.alloc(0)))] });
    case 'proposals': {
      const payloads = message.payloads.map((p) => {
        if (p.type !== PayloadType.SA || !('proposals' in p)) return p;
        const first = p.proposals[0]!;
        // 255 Proposals of 8 + (first's Transforms) + 8 per padding Transform octets fill the room.
        const firstOctets = 8 + first.transforms.reduce((n, t) => n + 8 + 4 * t.attributes.length, 0);
        const paddingCount = Math.max(0, Math.floor((room / 255 - firstOctets) / 8));
        const padding: Transform[] = Array.from({ length: paddingCount }, () => transform(TransformType.DH, DhId.ECP_256));
        const copies: Proposal[] = Array.from({ length: 254 }, (_, i) => ({ ...first, proposalNum: i + 2, transforms: [...first.transforms, ...padding] }));
        return saPayload([first, ...copies]);
      });
      return encodeMessage({ ...message, payloads });
    }
  }
}
