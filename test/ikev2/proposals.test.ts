import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCryptoRegistry, cryptoRegistry } from '../../src/crypto/registry.js';
import { parseProposal, type AlgorithmSet } from '../../src/policy/proposal-syntax.js';
import {
  buildProposals,
  checkChosenProposal,
  dhGroupsOffered,
  formatWireProposal,
  selectProposal,
  type NegotiatedTransforms,
} from '../../src/ikev2/proposals.js';
import {
  DhId,
  EncrId,
  EsnId,
  IntegId,
  PayloadType,
  PrfId,
  ProtocolId,
  TransformAttributeType,
  TransformType,
  decodePayloadChain,
  encodePayloadChain,
  saPayload,
  type Proposal,
  type SaPayload,
  type Transform,
} from '../../src/wire/index.js';

const { ENCR, PRF, INTEG, DH, ESN } = TransformType;
const ESP_SPI = Buffer.from('c0ffee01', 'hex');
const IKE_SPI = Buffer.from('0102030405060708', 'hex');
const legacy = createCryptoRegistry({ allowLegacyGroups: true });

function sets(protocol: 'ike' | 'esp', ...texts: string[]): AlgorithmSet[] {
  return texts.map((t) => {
    const r = parseProposal(t, protocol);
    if (!r.ok) throw new Error(r.error.message);
    return r.value;
  });
}

/** A wire transform written by hand (KEY_LENGTH as TV, as RFC 7296 3.3.5 requires). */
function t(type: number, id: number, keyLength?: number): Transform {
  return {
    transformType: type,
    transformId: id,
    attributes: keyLength === undefined ? [] : [{ format: 'TV', attributeType: TransformAttributeType.KEY_LENGTH, value: keyLength }],
  };
}

function proposal(proposalNum: number, protocolId: number, transforms: Transform[], spi = Buffer.alloc(0)): Proposal {
  return { proposalNum, protocolId, spi, transforms };
}

const esp = (num: number, transforms: Transform[]) => proposal(num, ProtocolId.ESP, transforms, ESP_SPI);

/** IKE aes128-sha256-prfsha256-modp2048 */
const IKE_CBC_128 = [t(ENCR, EncrId.ENCR_AES_CBC, 128), t(PRF, PrfId.PRF_HMAC_SHA2_256), t(INTEG, IntegId.AUTH_HMAC_SHA2_256_128), t(DH, DhId.MODP_2048)];
/** IKE aes256gcm16-prfsha384-ecp384 */
const IKE_GCM_256 = [t(ENCR, EncrId.ENCR_AES_GCM_16, 256), t(PRF, PrfId.PRF_HMAC_SHA2_384), t(DH, DhId.ECP_384)];

function selected(r: ReturnType<typeof selectProposal>) {
  if (!r.ok) throw new Error(`expected a selection: ${r.error.reason}`);
  return r.value;
}

function refusal(r: ReturnType<typeof selectProposal>): string {
  if (r.ok) throw new Error(`expected NO_PROPOSAL_CHOSEN, got ${formatWireProposal(r.value.proposal)}`);
  expect(r.error.kind).toBe('NO_PROPOSAL_CHOSEN');
  return r.error.reason;
}

describe('buildProposals', () => {
  it('numbers proposals from 1, one transform per algorithm in preference order, KEY_LENGTH as TV', () => {
    const offer = buildProposals(sets('ike', 'aes256-aes128-sha384-sha256-ecp384-modp2048', 'aes256gcm16-prfsha384-x25519'), ProtocolId.IKE, Buffer.alloc(0));
    expect(offer).toEqual([
      proposal(1, ProtocolId.IKE, [
        t(ENCR, EncrId.ENCR_AES_CBC, 256),
        t(ENCR, EncrId.ENCR_AES_CBC, 128),
        t(PRF, PrfId.PRF_HMAC_SHA2_384),
        t(PRF, PrfId.PRF_HMAC_SHA2_256),
        t(INTEG, IntegId.AUTH_HMAC_SHA2_384_192),
        t(INTEG, IntegId.AUTH_HMAC_SHA2_256_128),
        t(DH, DhId.ECP_384),
        t(DH, DhId.MODP_2048),
      ]),
      proposal(2, ProtocolId.IKE, [t(ENCR, EncrId.ENCR_AES_GCM_16, 256), t(PRF, PrfId.PRF_HMAC_SHA2_384), t(DH, DhId.CURVE25519)]),
    ]);
  });

  it('gives every ESP proposal our SPI and an ESN transform; chacha20poly1305 has no KEY_LENGTH', () => {
    const offer = buildProposals(sets('esp', 'chacha20poly1305', 'aes128-sha256-modp2048-esn-noesn'), ProtocolId.ESP, ESP_SPI);
    expect(offer).toEqual([
      esp(1, [t(ENCR, EncrId.ENCR_CHACHA20_POLY1305), t(ESN, EsnId.NO_ESN)]),
      esp(2, [t(ENCR, EncrId.ENCR_AES_CBC, 128), t(INTEG, IntegId.AUTH_HMAC_SHA2_256_128), t(DH, DhId.MODP_2048), t(ESN, EsnId.ESN), t(ESN, EsnId.NO_ESN)]),
    ]);
    expect(offer[0]!.spi).not.toBe(ESP_SPI); // a copy, not the caller's buffer
  });

  it('leaves out DH transforms for IKE_AUTH (RFC 7296 1.2) and refuses that option for IKE', () => {
    const offer = buildProposals(sets('esp', 'aes128gcm16-ecp256'), ProtocolId.ESP, ESP_SPI, { withoutKeyExchange: true });
    expect(offer[0]!.transforms.map((x) => x.transformType)).toEqual([ENCR, ESN]);
    expect(() => buildProposals(sets('ike', 'aes128gcm16-prfsha256-ecp256'), ProtocolId.IKE, Buffer.alloc(0), { withoutKeyExchange: true })).toThrow(RangeError);
  });

  it('offers only what the registry implements, dropping sets left incomplete and renumbering', () => {
    const configured = sets('ike', '3des-sha1-modp1024', 'aes128ctr-aes128-sha256-modp1024-modp2048');
    const offer = buildProposals(configured, ProtocolId.IKE, Buffer.alloc(0));
    expect(offer.map(formatWireProposal)).toEqual(['aes128-sha256-prfsha256-modp2048']);
    expect(offer[0]!.proposalNum).toBe(1);
    const withLegacy = buildProposals(configured, ProtocolId.IKE, Buffer.alloc(0), { registry: legacy });
    expect(withLegacy.map(formatWireProposal)).toEqual(['aes128-sha256-prfsha256-modp1024-modp2048']);
  });

  it('encodes into an SA payload that decodes to the same proposals', () => {
    const offer = buildProposals(sets('esp', 'aes256gcm16-aes128gcm16', 'aes256-sha512-ecp384-esn'), ProtocolId.ESP, ESP_SPI);
    const { firstPayloadType, bytes } = encodePayloadChain([saPayload(offer)]);
    const decoded = decodePayloadChain(bytes, firstPayloadType, 0);
    expect(decoded.ok && (decoded.value[0] as SaPayload).proposals).toEqual(offer);
    expect(firstPayloadType).toBe(PayloadType.SA);
  });
});

describe('selectProposal (responder, RFC 7296 2.7)', () => {
  it("takes the first proposal acceptable in the INITIATOR's order, not ours", () => {
    const offered = [proposal(1, ProtocolId.IKE, IKE_CBC_128), proposal(2, ProtocolId.IKE, IKE_GCM_256)];
    const ours = sets('ike', 'aes256gcm16-prfsha384-ecp384', 'aes128-sha256-modp2048');
    const s = selected(selectProposal(offered, ours, ProtocolId.IKE, cryptoRegistry));
    expect(s.proposal.proposalNum).toBe(1);
    expect(s.negotiated).toEqual({
      encryption: { id: EncrId.ENCR_AES_CBC, keyLengthBits: 128 },
      prf: PrfId.PRF_HMAC_SHA2_256,
      integrity: IntegId.AUTH_HMAC_SHA2_256_128,
      dh: DhId.MODP_2048,
    } satisfies NegotiatedTransforms);
  });

  it("takes the initiator's first acceptable transform of each type", () => {
    const offered = [
      proposal(1, ProtocolId.IKE, [
        t(ENCR, EncrId.ENCR_AES_CBC, 128),
        t(ENCR, EncrId.ENCR_AES_CBC, 256),
        t(PRF, PrfId.PRF_HMAC_SHA1),
        t(PRF, PrfId.PRF_HMAC_SHA2_512),
        t(INTEG, IntegId.AUTH_HMAC_SHA2_256_128),
        t(INTEG, IntegId.AUTH_HMAC_SHA2_512_256),
        t(DH, DhId.ECP_256),
        t(DH, DhId.CURVE25519),
      ]),
    ];
    const ours = sets('ike', 'aes256-aes128-sha512-sha256-prfsha512-prfsha256-x25519-ecp256');
    const s = selected(selectProposal(offered, ours, ProtocolId.IKE, cryptoRegistry));
    expect(s.proposal).toEqual(
      proposal(1, ProtocolId.IKE, [
        t(ENCR, EncrId.ENCR_AES_CBC, 128),
        t(PRF, PrfId.PRF_HMAC_SHA2_512),
        t(INTEG, IntegId.AUTH_HMAC_SHA2_256_128),
        t(DH, DhId.ECP_256),
      ]),
    );
    expect(s.proposal.spi.length).toBe(0); // our SPI is the caller's to fill
  });

  it('skips algorithms the registry does not implement, even when configured', () => {
    const offered = [
      proposal(1, ProtocolId.IKE, [
        t(ENCR, EncrId.ENCR_3DES),
        t(ENCR, EncrId.ENCR_AES_CTR, 128),
        t(ENCR, EncrId.ENCR_AES_CBC, 128),
        t(PRF, PrfId.PRF_HMAC_MD5),
        t(PRF, PrfId.PRF_HMAC_SHA1),
        t(INTEG, IntegId.AUTH_HMAC_MD5_96),
        t(INTEG, IntegId.AUTH_HMAC_SHA1_96),
        t(DH, DhId.MODP_1024),
        t(DH, DhId.MODP_2048),
      ]),
    ];
    const ours = sets('ike', '3des-aes128ctr-aes128-md5-sha1-prfmd5-prfsha1-modp1024-modp2048');
    const modern = selected(selectProposal(offered, ours, ProtocolId.IKE, cryptoRegistry)).negotiated;
    expect(modern).toEqual({
      encryption: { id: EncrId.ENCR_AES_CBC, keyLengthBits: 128 },
      prf: PrfId.PRF_HMAC_SHA1,
      integrity: IntegId.AUTH_HMAC_SHA1_96,
      dh: DhId.MODP_2048,
    });
    expect(selected(selectProposal(offered, ours, ProtocolId.IKE, legacy)).negotiated.dh).toBe(DhId.MODP_1024);
  });

  it('does not accept aes128 when aes256 is configured (KEY_LENGTH must match)', () => {
    const reason = refusal(selectProposal([proposal(1, ProtocolId.IKE, IKE_CBC_128)], sets('ike', 'aes256-sha256-modp2048'), ProtocolId.IKE, cryptoRegistry));
    expect(reason).toContain('no acceptable encryption algorithm');
  });

  it('refuses AES-CBC without KEY_LENGTH and ChaCha20-Poly1305 with one', () => {
    const cbc = [t(ENCR, EncrId.ENCR_AES_CBC), ...IKE_CBC_128.slice(1)];
    expect(selectProposal([proposal(1, ProtocolId.IKE, cbc)], sets('ike', 'aes128-sha256-modp2048'), ProtocolId.IKE, cryptoRegistry).ok).toBe(false);
    const chacha = [t(ENCR, EncrId.ENCR_CHACHA20_POLY1305, 256), t(PRF, PrfId.PRF_HMAC_SHA2_256), t(DH, DhId.CURVE25519)];
    expect(selectProposal([proposal(1, ProtocolId.IKE, chacha)], sets('ike', 'chacha20poly1305-prfsha256-x25519'), ProtocolId.IKE, cryptoRegistry).ok).toBe(false);
  });

  describe('RFC 7296 3.3.6', () => {
    const ours = sets('ike', 'aes256-aes128-sha256-modp2048');

    it('skips a transform with an attribute it does not understand, and takes the next of that type', () => {
      const odd: Transform = { ...t(ENCR, EncrId.ENCR_AES_CBC, 256), attributes: [...t(ENCR, EncrId.ENCR_AES_CBC, 256).attributes, { format: 'TV', attributeType: 99, value: 1 }] };
      const offered = [proposal(1, ProtocolId.IKE, [odd, ...IKE_CBC_128])];
      const s = selected(selectProposal(offered, ours, ProtocolId.IKE, cryptoRegistry));
      expect(s.negotiated.encryption).toEqual({ id: EncrId.ENCR_AES_CBC, keyLengthBits: 128 });
    });

    it('does not understand KEY_LENGTH in TLV form, twice, or on a PRF', () => {
      const tlv: Transform = { transformType: ENCR, transformId: EncrId.ENCR_AES_CBC, attributes: [{ format: 'TLV', attributeType: TransformAttributeType.KEY_LENGTH, value: Buffer.from([1, 0]) }] };
      const twice: Transform = { ...t(ENCR, EncrId.ENCR_AES_CBC, 128), attributes: [...t(ENCR, 0, 128).attributes, ...t(ENCR, 0, 128).attributes] };
      const prfWithLength = t(PRF, PrfId.PRF_HMAC_SHA2_256, 256);
      for (const encr of [tlv, twice]) {
        expect(selectProposal([proposal(1, ProtocolId.IKE, [encr, ...IKE_CBC_128.slice(1)])], ours, ProtocolId.IKE, cryptoRegistry).ok).toBe(false);
      }
      const r = selectProposal([proposal(1, ProtocolId.IKE, [IKE_CBC_128[0]!, prfWithLength, ...IKE_CBC_128.slice(2)])], ours, ProtocolId.IKE, cryptoRegistry);
      expect(refusal(r)).toContain('no acceptable PRF');
    });

    it('skips an unknown transform ID and keeps looking in the same type', () => {
      const offered = [proposal(1, ProtocolId.IKE, [t(ENCR, 1024, 128), ...IKE_CBC_128])];
      expect(selected(selectProposal(offered, ours, ProtocolId.IKE, cryptoRegistry)).negotiated.encryption.id).toBe(EncrId.ENCR_AES_CBC);
    });

    it('skips a whole proposal with a Transform Type it does not understand, and processes the next', () => {
      const offered = [proposal(1, ProtocolId.IKE, [...IKE_CBC_128, t(6, 0)]), proposal(2, ProtocolId.IKE, IKE_CBC_128)];
      expect(selected(selectProposal(offered, ours, ProtocolId.IKE, cryptoRegistry)).proposal.proposalNum).toBe(2);
      const only = refusal(selectProposal([offered[0]!], ours, ProtocolId.IKE, cryptoRegistry));
      expect(only).toContain('Transform Type 6 is not understood');
    });

    it('returns the attributes of the chosen transform unmodified', () => {
      const s = selected(selectProposal([proposal(1, ProtocolId.IKE, IKE_CBC_128)], ours, ProtocolId.IKE, cryptoRegistry));
      expect(s.proposal.transforms[0]).toEqual(IKE_CBC_128[0]);
      expect(s.proposal.transforms[0]).not.toBe(IKE_CBC_128[0]);
    });
  });

  it('skips a proposal for another protocol', () => {
    const offered = [esp(1, [t(ENCR, EncrId.ENCR_AES_CBC, 128), t(INTEG, IntegId.AUTH_HMAC_SHA2_256_128), t(ESN, 0)]), proposal(2, ProtocolId.IKE, IKE_CBC_128)];
    const s = selected(selectProposal(offered, sets('ike', 'aes128-sha256-modp2048'), ProtocolId.IKE, cryptoRegistry));
    expect(s.proposal.proposalNum).toBe(2);
  });

  it('never combines transforms from two configured proposals', () => {
    const ours = sets('ike', 'aes256gcm16-prfsha384-ecp384', 'aes128-sha256-prfsha256-modp2048');
    const mixed = [t(ENCR, EncrId.ENCR_AES_GCM_16, 256), t(PRF, PrfId.PRF_HMAC_SHA2_256), t(DH, DhId.MODP_2048)];
    refusal(selectProposal([proposal(1, ProtocolId.IKE, mixed)], ours, ProtocolId.IKE, cryptoRegistry));
  });

  describe('AEAD', () => {
    it('answers an AEAD without an integrity transform even when the offer mixes ciphers', () => {
      const offered = [proposal(1, ProtocolId.IKE, [t(ENCR, EncrId.ENCR_AES_GCM_16, 256), t(ENCR, EncrId.ENCR_AES_CBC, 256), t(PRF, PrfId.PRF_HMAC_SHA2_384), t(INTEG, IntegId.AUTH_HMAC_SHA2_384_192), t(DH, DhId.ECP_384)])];
      const s = selected(selectProposal(offered, sets('ike', 'aes256gcm16-prfsha384-ecp384'), ProtocolId.IKE, cryptoRegistry));
      expect(s.proposal.transforms.map((x) => x.transformType)).toEqual([ENCR, PRF, DH]);
      expect(s.negotiated.integrity).toBeUndefined();
      // the same offer against a classic configuration takes the CBC cipher with integrity
      const c = selected(selectProposal(offered, sets('ike', 'aes256-sha384-ecp384'), ProtocolId.IKE, cryptoRegistry));
      expect(c.negotiated).toEqual({ encryption: { id: EncrId.ENCR_AES_CBC, keyLengthBits: 256 }, prf: PrfId.PRF_HMAC_SHA2_384, integrity: IntegId.AUTH_HMAC_SHA2_384_192, dh: DhId.ECP_384 });
    });

    it('does not accept an AEAD offer when only classic ciphers are configured, nor the reverse', () => {
      refusal(selectProposal([proposal(1, ProtocolId.IKE, IKE_GCM_256)], sets('ike', 'aes256-sha384-ecp384'), ProtocolId.IKE, cryptoRegistry));
      refusal(selectProposal([proposal(1, ProtocolId.IKE, IKE_CBC_128)], sets('ike', 'aes128gcm16-prfsha256-modp2048'), ProtocolId.IKE, cryptoRegistry));
    });

    it('needs an integrity transform with classic encryption', () => {
      const noInteg = IKE_CBC_128.filter((x) => x.transformType !== INTEG);
      expect(refusal(selectProposal([proposal(1, ProtocolId.IKE, noInteg)], sets('ike', 'aes128-sha256-modp2048'), ProtocolId.IKE, cryptoRegistry))).toContain('no acceptable integrity algorithm');
      const integNone = [...noInteg, t(INTEG, IntegId.NONE)];
      refusal(selectProposal([esp(1, [...integNone.filter((x) => x.transformType === ENCR), t(INTEG, IntegId.NONE), t(ESN, 0)])], sets('esp', 'aes128-sha256'), ProtocolId.ESP, cryptoRegistry));
    });
  });

  describe('ESN', () => {
    const gcm = t(ENCR, EncrId.ENCR_AES_GCM_16, 128);
    it('refuses an ESP proposal without ESN transforms and an IKE proposal with one', () => {
      expect(refusal(selectProposal([esp(1, [gcm])], sets('esp', 'aes128gcm16'), ProtocolId.ESP, cryptoRegistry))).toContain('must carry ESN');
      expect(refusal(selectProposal([proposal(1, ProtocolId.IKE, [...IKE_GCM_256, t(ESN, 0)])], sets('ike', 'aes256gcm16-prfsha384-ecp384'), ProtocolId.IKE, cryptoRegistry))).toContain('must not carry ESN');
    });

    it("chooses the initiator's first ESN mode that we allow", () => {
      const offered = [esp(1, [gcm, t(ESN, EsnId.ESN), t(ESN, EsnId.NO_ESN)])];
      expect(selected(selectProposal(offered, sets('esp', 'aes128gcm16'), ProtocolId.ESP, cryptoRegistry)).negotiated.esn).toBe(EsnId.NO_ESN);
      expect(selected(selectProposal(offered, sets('esp', 'aes128gcm16-noesn-esn'), ProtocolId.ESP, cryptoRegistry)).negotiated.esn).toBe(EsnId.ESN);
      expect(refusal(selectProposal([esp(1, [gcm, t(ESN, EsnId.ESN)])], sets('esp', 'aes128gcm16'), ProtocolId.ESP, cryptoRegistry))).toContain('no acceptable ESN mode');
    });

    it('refuses an ESP proposal whose SPI is not 4 octets', () => {
      expect(refusal(selectProposal([proposal(1, ProtocolId.ESP, [gcm, t(ESN, 0)])], sets('esp', 'aes128gcm16'), ProtocolId.ESP, cryptoRegistry))).toContain('SPI Size 0');
    });
  });

  describe('PFS', () => {
    const base = [t(ENCR, EncrId.ENCR_AES_GCM_16, 256), t(ESN, EsnId.NO_ESN)];
    const withDh = (...groups: number[]) => esp(1, [base[0]!, ...groups.map((g) => t(DH, g)), base[1]!]);

    it('with PFS configured, takes the offered group; without an offered group, refuses', () => {
      const pfs = sets('esp', 'aes256gcm16-ecp384-modp2048');
      expect(selected(selectProposal([withDh(DhId.MODP_2048, DhId.ECP_384)], pfs, ProtocolId.ESP, cryptoRegistry)).negotiated.dh).toBe(DhId.MODP_2048);
      expect(refusal(selectProposal([withDh()], pfs, ProtocolId.ESP, cryptoRegistry))).toContain('PFS required');
    });

    it('without PFS configured, refuses an offer that requires it', () => {
      expect(refusal(selectProposal([withDh(DhId.ECP_384)], sets('esp', 'aes256gcm16'), ProtocolId.ESP, cryptoRegistry))).toContain('requires PFS');
      expect(selected(selectProposal([withDh()], sets('esp', 'aes256gcm16'), ProtocolId.ESP, cryptoRegistry)).negotiated.dh).toBeUndefined();
    });

    it('takes DH NONE when the initiator makes PFS optional and we have none, answering with NONE', () => {
      const s = selected(selectProposal([withDh(DhId.ECP_384, DhId.NONE)], sets('esp', 'aes256gcm16'), ProtocolId.ESP, cryptoRegistry));
      expect(s.negotiated.dh).toBeUndefined();
      expect(s.proposal.transforms).toContainEqual(t(DH, DhId.NONE));
      // and a group when we have one
      expect(selected(selectProposal([withDh(DhId.ECP_384, DhId.NONE)], sets('esp', 'aes256gcm16-ecp384'), ProtocolId.ESP, cryptoRegistry)).negotiated.dh).toBe(DhId.ECP_384);
      // configured "optional PFS" accepts an offer without DH
      expect(selected(selectProposal([withDh()], sets('esp', 'aes256gcm16-ecp384-none'), ProtocolId.ESP, cryptoRegistry)).negotiated.dh).toBeUndefined();
    });

    it('in IKE_AUTH leaves the ignored DH groups out of the reason', () => {
      const reason = refusal(selectProposal([withDh()], sets('esp', 'aes128gcm16-ecp384'), ProtocolId.ESP, cryptoRegistry, { withoutKeyExchange: true }));
      expect(reason).toMatch(/configured aes128gcm16$/);
    });

    it('in IKE_AUTH (withoutKeyExchange) ignores DH on both sides', () => {
      const opts = { withoutKeyExchange: true };
      const pfs = sets('esp', 'aes256gcm16-ecp384');
      const a = selected(selectProposal([withDh()], pfs, ProtocolId.ESP, cryptoRegistry, opts));
      expect(a.negotiated).toEqual({ encryption: { id: EncrId.ENCR_AES_GCM_16, keyLengthBits: 256 }, esn: EsnId.NO_ESN });
      const b = selected(selectProposal([withDh(DhId.MODP_2048)], pfs, ProtocolId.ESP, cryptoRegistry, opts));
      expect(b.proposal.transforms.map((x) => x.transformType)).toEqual([ENCR, ESN]);
    });
  });

  it('explains NO_PROPOSAL_CHOSEN with both sides in strongSwan syntax', () => {
    const offered = [
      proposal(1, ProtocolId.IKE, [t(ENCR, EncrId.ENCR_AES_CBC, 128), t(INTEG, IntegId.AUTH_HMAC_SHA1_96), t(PRF, PrfId.PRF_HMAC_SHA1), t(DH, DhId.MODP_1024)]),
      proposal(2, ProtocolId.IKE, [t(ENCR, EncrId.ENCR_AES_GCM_16, 256), t(PRF, PrfId.PRF_HMAC_SHA2_384), t(DH, DhId.MODP_1024)]),
      proposal(3, ProtocolId.ESP, [t(ENCR, EncrId.ENCR_AES_GCM_16, 256)]),
    ];
    const reason = refusal(selectProposal(offered, sets('ike', 'aes256gcm16-prfsha384-ecp384', 'aes256-sha384-ecp384'), ProtocolId.IKE, cryptoRegistry));
    expect(reason).toBe(
      'no acceptable IKE proposal: received ' +
        '#1 aes128-sha1-prfsha1-modp1024 (no acceptable encryption algorithm), ' +
        '#2 aes256gcm16-prfsha384-modp1024 (no acceptable DH group), ' +
        '#3 aes256gcm16 (protocol ESP, not IKE); ' +
        'configured aes256gcm16-prfsha384-ecp384, aes256-sha384-prfsha384-ecp384',
    );
  });

  it('prints transforms it cannot name as UNKNOWN_<type>_<id> in the reason', () => {
    const reason = refusal(selectProposal([proposal(1, ProtocolId.IKE, [t(ENCR, 1025, 128), t(PRF, 9999), t(DH, DhId.ECP_256)])], sets('ike', 'aes128-sha256-ecp256'), ProtocolId.IKE, cryptoRegistry));
    expect(reason).toContain('#1 UNKNOWN_1_1025_128-UNKNOWN_2_9999-ecp256');
  });

  it('says so when nothing was offered or configured', () => {
    expect(refusal(selectProposal([], sets('ike', 'aes128-sha256-ecp256'), ProtocolId.IKE, cryptoRegistry))).toContain('received none');
    expect(refusal(selectProposal([proposal(1, ProtocolId.IKE, IKE_CBC_128)], [], ProtocolId.IKE, cryptoRegistry))).toContain('configured none');
  });
});

describe('checkChosenProposal (initiator, RFC 7296 3.3.6)', () => {
  const offer = buildProposals(sets('ike', 'aes256gcm16-aes128gcm16-prfsha384-prfsha256-ecp384-x25519', 'aes256-sha256-modp2048'), ProtocolId.IKE, Buffer.alloc(0));
  const reply = (num: number, transforms: Transform[], spi = Buffer.alloc(0)) => [proposal(num, ProtocolId.IKE, transforms, spi)];
  const gcm128Reply = [t(ENCR, EncrId.ENCR_AES_GCM_16, 128), t(PRF, PrfId.PRF_HMAC_SHA2_256), t(DH, DhId.CURVE25519)];

  function rejected(r: ReturnType<typeof checkChosenProposal>, kind: 'INVALID_SYNTAX' | 'NO_PROPOSAL_CHOSEN'): string {
    if (r.ok) throw new Error('expected a rejection');
    expect(r.error.kind).toBe(kind);
    return r.error.reason;
  }

  it('accepts a single transform per type from the proposal we numbered', () => {
    const r = checkChosenProposal(offer, reply(1, gcm128Reply), ProtocolId.IKE);
    expect(r).toEqual({
      ok: true,
      value: { negotiated: { encryption: { id: EncrId.ENCR_AES_GCM_16, keyLengthBits: 128 }, prf: PrfId.PRF_HMAC_SHA2_256, dh: DhId.CURVE25519 }, peerSpi: Buffer.alloc(0) },
    });
  });

  it('rejects several proposals, and none', () => {
    expect(rejected(checkChosenProposal(offer, [...reply(1, gcm128Reply), ...reply(2, gcm128Reply)], ProtocolId.IKE), 'INVALID_SYNTAX')).toMatch(/exactly one proposal/);
    rejected(checkChosenProposal(offer, [], ProtocolId.IKE), 'INVALID_SYNTAX');
  });

  it('rejects a proposal number we did not offer', () => {
    expect(rejected(checkChosenProposal(offer, reply(3, gcm128Reply), ProtocolId.IKE), 'NO_PROPOSAL_CHOSEN')).toMatch(/#3/);
  });

  it('rejects a transform from another of our proposals', () => {
    const cross = [t(ENCR, EncrId.ENCR_AES_GCM_16, 128), t(PRF, PrfId.PRF_HMAC_SHA2_256), t(DH, DhId.MODP_2048)];
    expect(rejected(checkChosenProposal(offer, reply(1, cross), ProtocolId.IKE), 'NO_PROPOSAL_CHOSEN')).toMatch(/modp2048 was not offered in proposal #1/);
  });

  it('rejects an extra transform of a type', () => {
    const extra = [...gcm128Reply, t(DH, DhId.ECP_384)];
    expect(rejected(checkChosenProposal(offer, reply(1, extra), ProtocolId.IKE), 'INVALID_SYNTAX')).toMatch(/2 transforms of type DH/);
  });

  it('rejects a changed KEY_LENGTH (attributes must come back unmodified)', () => {
    const changed = [t(ENCR, EncrId.ENCR_AES_GCM_16, 192), ...gcm128Reply.slice(1)];
    rejected(checkChosenProposal(offer, reply(1, changed), ProtocolId.IKE), 'NO_PROPOSAL_CHOSEN');
  });

  it('rejects missing mandatory types', () => {
    rejected(checkChosenProposal(offer, reply(1, gcm128Reply.filter((x) => x.transformType !== PRF)), ProtocolId.IKE), 'INVALID_SYNTAX');
    rejected(checkChosenProposal(offer, reply(1, gcm128Reply.filter((x) => x.transformType !== DH)), ProtocolId.IKE), 'INVALID_SYNTAX');
    rejected(checkChosenProposal(offer, reply(1, gcm128Reply.filter((x) => x.transformType !== ENCR)), ProtocolId.IKE), 'INVALID_SYNTAX');
    const cbcNoInteg = [t(ENCR, EncrId.ENCR_AES_CBC, 256), t(PRF, PrfId.PRF_HMAC_SHA2_256), t(DH, DhId.MODP_2048)];
    expect(rejected(checkChosenProposal(offer, reply(2, cbcNoInteg), ProtocolId.IKE), 'INVALID_SYNTAX')).toMatch(/no integrity/);
  });

  it('takes an INTEG or DH transform NONE we did not offer as the type left out', () => {
    const r = checkChosenProposal(offer, reply(1, [...gcm128Reply, t(INTEG, IntegId.NONE)]), ProtocolId.IKE);
    expect(r.ok && r.value.negotiated.integrity).toBeUndefined();
    const dhNone = [t(ENCR, EncrId.ENCR_AES_GCM_16, 128), t(PRF, PrfId.PRF_HMAC_SHA2_256), t(DH, DhId.NONE)];
    expect(rejected(checkChosenProposal(offer, reply(1, dhNone), ProtocolId.IKE), 'INVALID_SYNTAX')).toMatch(/no DH group/);
    const cbcIntegNone = [t(ENCR, EncrId.ENCR_AES_CBC, 256), t(PRF, PrfId.PRF_HMAC_SHA2_256), t(INTEG, IntegId.NONE), t(DH, DhId.MODP_2048)];
    expect(rejected(checkChosenProposal(offer, reply(2, cbcIntegNone), ProtocolId.IKE), 'INVALID_SYNTAX')).toMatch(/no integrity/);
    const authOffer = buildProposals(sets('esp', 'aes128gcm16-ecp256'), ProtocolId.ESP, ESP_SPI, { withoutKeyExchange: true });
    const a = checkChosenProposal(authOffer, [proposal(1, ProtocolId.ESP, [t(ENCR, EncrId.ENCR_AES_GCM_16, 128), t(DH, DhId.NONE), t(ESN, 0)], ESP_SPI)], ProtocolId.ESP);
    expect(a.ok && a.value.negotiated).toEqual({ encryption: { id: EncrId.ENCR_AES_GCM_16, keyLengthBits: 128 }, esn: EsnId.NO_ESN });
  });

  it('rejects a reply for another protocol, or with a bad SPI size', () => {
    rejected(checkChosenProposal(offer, [proposal(1, ProtocolId.ESP, gcm128Reply, ESP_SPI)], ProtocolId.IKE), 'INVALID_SYNTAX');
    rejected(checkChosenProposal(offer, reply(1, gcm128Reply, Buffer.alloc(4)), ProtocolId.IKE), 'INVALID_SYNTAX');
    const rekey = checkChosenProposal(offer, reply(1, gcm128Reply, IKE_SPI), ProtocolId.IKE);
    expect(rekey.ok && rekey.value.peerSpi).toEqual(IKE_SPI);
  });

  describe('ESP', () => {
    const espOffer = buildProposals(sets('esp', 'aes128gcm16-ecp256', 'aes256-sha256-ecp256-none-esn-noesn'), ProtocolId.ESP, ESP_SPI);
    const peer = Buffer.from('0badcafe', 'hex');
    const espReply = (num: number, transforms: Transform[]) => [proposal(num, ProtocolId.ESP, transforms, peer)];

    it('needs the DH group when we offered PFS only', () => {
      const r = checkChosenProposal(espOffer, espReply(1, [t(ENCR, EncrId.ENCR_AES_GCM_16, 128), t(DH, DhId.ECP_256), t(ESN, 0)]), ProtocolId.ESP);
      expect(r).toEqual({ ok: true, value: { negotiated: { encryption: { id: EncrId.ENCR_AES_GCM_16, keyLengthBits: 128 }, dh: DhId.ECP_256, esn: EsnId.NO_ESN }, peerSpi: peer } });
      expect(rejected(checkChosenProposal(espOffer, espReply(1, [t(ENCR, EncrId.ENCR_AES_GCM_16, 128), t(ESN, 0)]), ProtocolId.ESP), 'NO_PROPOSAL_CHOSEN')).toMatch(/PFS/);
    });

    it('accepts DH NONE, or no DH transform, when we offered NONE', () => {
      const cbc = [t(ENCR, EncrId.ENCR_AES_CBC, 256), t(INTEG, IntegId.AUTH_HMAC_SHA2_256_128)];
      const a = checkChosenProposal(espOffer, espReply(2, [...cbc, t(DH, DhId.NONE), t(ESN, EsnId.ESN)]), ProtocolId.ESP);
      const b = checkChosenProposal(espOffer, espReply(2, [...cbc, t(ESN, EsnId.ESN)]), ProtocolId.ESP);
      for (const r of [a, b]) {
        expect(r.ok && r.value.negotiated).toEqual({ encryption: { id: EncrId.ENCR_AES_CBC, keyLengthBits: 256 }, integrity: IntegId.AUTH_HMAC_SHA2_256_128, esn: EsnId.ESN });
      }
    });

    it('needs an ESN transform and a 4-octet SPI', () => {
      expect(rejected(checkChosenProposal(espOffer, espReply(1, [t(ENCR, EncrId.ENCR_AES_GCM_16, 128), t(DH, DhId.ECP_256)]), ProtocolId.ESP), 'INVALID_SYNTAX')).toMatch(/ESN/);
      rejected(checkChosenProposal(espOffer, [proposal(1, ProtocolId.ESP, [t(ENCR, EncrId.ENCR_AES_GCM_16, 128), t(DH, DhId.ECP_256), t(ESN, 0)])], ProtocolId.ESP), 'INVALID_SYNTAX');
    });
  });
});

describe('dhGroupsOffered', () => {
  it('lists every group once, in order of first appearance, without NONE or unknown IDs', () => {
    const offered = [
      esp(1, [t(DH, DhId.ECP_384), t(DH, DhId.NONE), t(DH, DhId.MODP_2048)]),
      esp(2, [t(DH, DhId.MODP_2048), t(DH, 1000), t(DH, DhId.CURVE25519)]),
    ];
    expect(dhGroupsOffered(offered)).toEqual([DhId.ECP_384, DhId.MODP_2048, DhId.CURVE25519]);
    expect(dhGroupsOffered([])).toEqual([]);
  });
});

describe('build → select → check', () => {
  const ikeLines = [
    'aes256gcm16-aes128gcm16-chacha20poly1305-prfsha256-prfsha384-x25519-ecp256',
    'aes256-aes128-sha256-sha384-sha512-prfsha512-ecp384-modp3072',
    'aes128-aesxcbc-prfaesxcbc-modp2048',
    'aes192gcm16-prfsha1-ecp521',
  ];
  const espLines = ['aes256gcm16-aes128gcm16', 'aes256-sha256-esn', 'chacha20poly1305-x25519', 'aes128-sha1-ecp256-none-noesn-esn'];
  const pick = (lines: string[]) => fc.uniqueArray(fc.constantFrom(...lines), { minLength: 1, maxLength: lines.length });

  it('whatever overlap two configurations have, a selection is a choice the initiator accepts', () => {
    fc.assert(
      fc.property(fc.constantFrom('ike' as const, 'esp' as const), pick(ikeLines), pick(ikeLines), pick(espLines), pick(espLines), (protocol, ii, ir, ei, er) => {
        const protocolId = protocol === 'ike' ? ProtocolId.IKE : ProtocolId.ESP;
        const [mine, theirs] = protocol === 'ike' ? [sets('ike', ...ii), sets('ike', ...ir)] : [sets('esp', ...ei), sets('esp', ...er)];
        const offer = buildProposals(mine, protocolId, protocol === 'ike' ? Buffer.alloc(0) : ESP_SPI);
        const s = selectProposal(offer, theirs, protocolId, cryptoRegistry);
        const overlap = (protocol === 'ike' ? ii.filter((l) => ir.includes(l)) : ei.filter((l) => er.includes(l))).length > 0;
        if (overlap) expect(s.ok).toBe(true);
        if (!s.ok) return;
        const answer = { ...s.value.proposal, spi: protocol === 'ike' ? Buffer.alloc(0) : Buffer.from('11223344', 'hex') };
        const checked = checkChosenProposal(offer, [answer], protocolId);
        expect(checked.ok && checked.value.negotiated).toEqual(s.value.negotiated);
        expect(s.value.peerSpi).toEqual(offer[0]!.spi);
      }),
    );
  });
});
