/**
 * A complete, deterministic IKEv2 exchange (IKE_SA_INIT request/response, IKE_AUTH
 * request/response) built with ikekm's own codec and crypto, for tshark to judge.
 *
 * Everything is real: DH key pairs and the shared secret come from the registry's group, the
 * keys from deriveIkeSaKeys over the actual nonces and SPIs, the NAT detection hashes and the
 * shared-key AUTH values from the messages as sent (RFC 7296 2.23, 2.15). Every random draw
 * comes from a seeded generator, so a failure reproduces byte for byte.
 */
import { createHash } from 'node:crypto';
import { deriveIkeSaKeys, type IkeSaKeys } from '../../src/crypto/ikev2-keys.js';
import { pskAuth, signedOctets } from '../../src/crypto/psk-auth.js';
import { createCryptoRegistry } from '../../src/crypto/registry.js';
import { skProtectionFor } from '../../src/crypto/sk-payload.js';
import type { EncryptionTransform, IntegrityTransform, RandomPort } from '../../src/crypto/types.js';
import { encodeProtectedMessage } from '../../src/ikev2/protected-message.js';
import {
  AuthMethod,
  DhId,
  EncrId,
  EsnId,
  ExchangeType,
  HashAlgorithm,
  IntegId,
  PayloadType,
  PrfId,
  ProtocolId,
  TransformType,
  addressRange,
  authPayload,
  encodeIdentity,
  encodeMessage,
  encodeNattIke,
  idPayload,
  kePayload,
  noncePayload,
  notifyPayload,
  parseIp,
  saPayload,
  transform,
  tsPayload,
  type AddressRangeSelector,
  type Identity,
  type IkeHeader,
  type Payload,
  type Proposal,
} from '../../src/wire/index.js';

const registry = createCryptoRegistry();

/** A seeded RandomPort: SHA-256(seed | counter) blocks. Not secure; reproducible. */
export function seededRandom(seed: string): RandomPort {
  let counter = 0;
  let pool = Buffer.alloc(0);
  return (n: number) => {
    while (pool.length < n) {
      const block = createHash('sha256').update(seed).update(String(counter++)).digest();
      pool = Buffer.concat([pool, block]);
    }
    const out = Buffer.from(pool.subarray(0, n));
    pool = pool.subarray(n);
    return out;
  };
}

export interface Suite {
  readonly name: string;
  readonly encrId: number;
  readonly keyLengthBits: number | undefined;
  /** Absent for AEAD. */
  readonly integId: number | undefined;
  readonly prfId: number;
  readonly dhId: number;
}

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

export interface ExchangeSpec {
  readonly suite: Suite;
  readonly seed: string;
  readonly initiator: Endpoint;
  readonly responder: Endpoint;
  /** NAT-T port both sides move to for IKE_AUTH (RFC 7296 2.23). */
  readonly nattPort: number;
  readonly initiatorId: Identity;
  readonly responderId: Identity;
  readonly psk: Buffer;
}

/** One datagram as it goes on the wire (UDP payload), with what it carries. */
export interface Datagram {
  readonly name: 'IKE_SA_INIT request' | 'IKE_SA_INIT response' | 'IKE_AUTH request' | 'IKE_AUTH response';
  readonly src: Endpoint;
  readonly dst: Endpoint;
  /** UDP payload: the IKE message, behind the non-ESP marker on the NAT-T port. */
  readonly udpPayload: Buffer;
  readonly header: IkeHeader;
  /** Payloads in the clear (IKE_SA_INIT), or inside SK (IKE_AUTH). */
  readonly payloads: readonly Payload[];
}

export interface Exchange {
  readonly spec: ExchangeSpec;
  readonly SPIi: Buffer;
  readonly SPIr: Buffer;
  readonly keys: IkeSaKeys;
  readonly encryption: EncryptionTransform;
  readonly integrity: IntegrityTransform | undefined;
  readonly datagrams: readonly Datagram[];
  /** Child SA values offered and chosen, for assertions. */
  readonly espSpiI: Buffer;
  readonly espSpiR: Buffer;
  readonly tsi: readonly AddressRangeSelector[];
  readonly tsr: readonly AddressRangeSelector[];
  readonly authI: Buffer;
  readonly authR: Buffer;
}

/** RFC 7296 2.23: SHA-1(SPIi | SPIr | IP | Port). */
export function natDetectionHash(SPIi: Buffer, SPIr: Buffer, endpoint: Endpoint): Buffer {
  const ip = parseIp(endpoint.address);
  if (ip === undefined) throw new RangeError(`bad address ${endpoint.address}`);
  const port = Buffer.alloc(2);
  port.writeUInt16BE(endpoint.port, 0);
  return createHash('sha1').update(Buffer.concat([SPIi, SPIr, ip, port])).digest();
}

/**
 * The IKE proposals of the IKE_SA_INIT request: several proposals of several transforms each
 * (RFC 7296 3.3), with KEY_LENGTH attributes where the cipher needs one (3.3.5). The suite under
 * test is always among them; `chosenIkeProposal` picks it.
 */
export function offeredIkeProposals(): Proposal[] {
  const ike = (proposalNum: number, transforms: Proposal['transforms']): Proposal => ({ proposalNum, protocolId: ProtocolId.IKE, spi: Buffer.alloc(0), transforms });
  return [
    ike(1, [
      transform(TransformType.ENCR, EncrId.ENCR_AES_GCM_16, 256),
      transform(TransformType.ENCR, EncrId.ENCR_AES_GCM_16, 128),
      transform(TransformType.PRF, PrfId.PRF_HMAC_SHA2_256),
      transform(TransformType.PRF, PrfId.PRF_HMAC_SHA2_384),
      transform(TransformType.DH, DhId.ECP_256),
      transform(TransformType.DH, DhId.CURVE25519),
    ]),
    ike(2, [
      transform(TransformType.ENCR, EncrId.ENCR_AES_CBC, 256),
      transform(TransformType.ENCR, EncrId.ENCR_AES_CBC, 128),
      transform(TransformType.PRF, PrfId.PRF_HMAC_SHA2_256),
      transform(TransformType.PRF, PrfId.PRF_HMAC_SHA1),
      transform(TransformType.INTEG, IntegId.AUTH_HMAC_SHA2_256_128),
      transform(TransformType.INTEG, IntegId.AUTH_HMAC_SHA1_96),
      transform(TransformType.DH, DhId.ECP_256),
      transform(TransformType.DH, DhId.MODP_2048),
    ]),
    ike(3, [
      transform(TransformType.ENCR, EncrId.ENCR_CHACHA20_POLY1305),
      transform(TransformType.PRF, PrfId.PRF_HMAC_SHA2_512),
      transform(TransformType.DH, DhId.CURVE25519),
    ]),
  ];
}

/** The one proposal the responder answers with: the suite's transforms, numbered as offered (RFC 7296 2.7). */
export function chosenIkeProposal(suite: Suite): Proposal {
  const aead = suite.integId === undefined;
  const transforms = [
    transform(TransformType.ENCR, suite.encrId, suite.keyLengthBits),
    transform(TransformType.PRF, suite.prfId),
    ...(aead ? [] : [transform(TransformType.INTEG, suite.integId as number)]),
    transform(TransformType.DH, suite.dhId),
  ];
  return { proposalNum: aead ? 1 : 2, protocolId: ProtocolId.IKE, spi: Buffer.alloc(0), transforms };
}

function espProposals(spi: Buffer): Proposal[] {
  return [
    {
      proposalNum: 1,
      protocolId: ProtocolId.ESP,
      spi,
      transforms: [
        transform(TransformType.ENCR, EncrId.ENCR_AES_GCM_16, 256),
        transform(TransformType.ENCR, EncrId.ENCR_AES_GCM_16, 128),
        transform(TransformType.ESN, EsnId.NO_ESN),
      ],
    },
    {
      proposalNum: 2,
      protocolId: ProtocolId.ESP,
      spi,
      transforms: [
        transform(TransformType.ENCR, EncrId.ENCR_AES_CBC, 128),
        transform(TransformType.INTEG, IntegId.AUTH_HMAC_SHA2_256_128),
        transform(TransformType.ESN, EsnId.NO_ESN),
        transform(TransformType.ESN, EsnId.ESN),
      ],
    },
  ];
}

/** RestOfInitIDPayload / RestOfRespIDPayload (RFC 7296 2.15): ID Type, 3 RESERVED octets, data. */
function idPayloadBody(identity: Identity): Buffer {
  const { idType, data } = encodeIdentity(identity);
  return Buffer.concat([Buffer.from([idType, 0, 0, 0]), data]);
}

export function buildExchange(spec: ExchangeSpec): Exchange {
  const random = seededRandom(spec.seed);
  const { suite } = spec;
  const group = registry.dhGroup(suite.dhId);
  const prf = registry.prf(suite.prfId);
  const encryption = registry.encryption(suite.encrId, suite.keyLengthBits);
  const integrity = suite.integId === undefined ? undefined : registry.integrity(suite.integId);
  if (!group || !prf || !encryption || (suite.integId !== undefined && !integrity)) throw new Error(`registry lacks part of ${suite.name}`);

  const SPIi = random(8);
  const SPIr = random(8);
  const zeroSpi = Buffer.alloc(8);
  const Ni = random(32);
  const Nr = random(32);
  const dhI = group.generateKeyPair(random);
  const dhR = group.generateKeyPair(random);
  const shared = group.computeSharedSecret(dhI, dhR.publicValue);
  const sharedR = group.computeSharedSecret(dhR, dhI.publicValue);
  if (!shared.ok || !sharedR.ok || !shared.value.equals(sharedR.value)) throw new Error('DH did not agree');

  const base = { majorVersion: 2, minorVersion: 0 } as const;
  const initRequestHeader: IkeHeader = { ...base, spiI: SPIi, spiR: zeroSpi, exchangeType: ExchangeType.IKE_SA_INIT, flags: { initiator: true, version: false, response: false }, messageId: 0 };
  const initResponseHeader: IkeHeader = { ...base, spiI: SPIi, spiR: SPIr, exchangeType: ExchangeType.IKE_SA_INIT, flags: { initiator: false, version: false, response: true }, messageId: 0 };
  const signatureHashes = notifyPayload({ name: 'SIGNATURE_HASH_ALGORITHMS', hashAlgorithms: [HashAlgorithm.SHA2_256, HashAlgorithm.SHA2_384, HashAlgorithm.SHA2_512, HashAlgorithm.IDENTITY] });

  const initRequestPayloads: Payload[] = [
    saPayload(offeredIkeProposals()),
    kePayload(suite.dhId, dhI.publicValue),
    noncePayload(Ni),
    notifyPayload({ name: 'NAT_DETECTION_SOURCE_IP', hash: natDetectionHash(SPIi, zeroSpi, spec.initiator) }),
    notifyPayload({ name: 'NAT_DETECTION_DESTINATION_IP', hash: natDetectionHash(SPIi, zeroSpi, spec.responder) }),
    notifyPayload({ name: 'IKEV2_FRAGMENTATION_SUPPORTED' }),
    signatureHashes,
  ];
  const initResponsePayloads: Payload[] = [
    saPayload([chosenIkeProposal(suite)]),
    kePayload(suite.dhId, dhR.publicValue),
    noncePayload(Nr),
    notifyPayload({ name: 'NAT_DETECTION_SOURCE_IP', hash: natDetectionHash(SPIi, SPIr, spec.responder) }),
    notifyPayload({ name: 'NAT_DETECTION_DESTINATION_IP', hash: natDetectionHash(SPIi, SPIr, spec.initiator) }),
    notifyPayload({ name: 'IKEV2_FRAGMENTATION_SUPPORTED' }),
    signatureHashes,
  ];
  const initRequest = encodeMessage({ header: initRequestHeader, payloads: initRequestPayloads });
  const initResponse = encodeMessage({ header: initResponseHeader, payloads: initResponsePayloads });

  const keys = deriveIkeSaKeys({ prf, integrity, encryption, Ni, Nr, sharedSecret: shared.value, SPIi, SPIr });

  // RFC 7296 2.15: each side signs its own IKE_SA_INIT message, the peer's nonce and its MACed ID.
  const authI = pskAuth(prf, spec.psk, signedOctets({ realMessage: initRequest, peerNonce: Nr, prf, SK_p: keys.SK_pi, idPayloadBody: idPayloadBody(spec.initiatorId) }));
  const authR = pskAuth(prf, spec.psk, signedOctets({ realMessage: initResponse, peerNonce: Ni, prf, SK_p: keys.SK_pr, idPayloadBody: idPayloadBody(spec.responderId) }));

  const espSpiI = random(4);
  const espSpiR = random(4);
  const tsi = [
    addressRange('198.51.100.0', '198.51.100.255'),
    addressRange('198.51.100.7', '198.51.100.9', { ipProtocolId: 17, startPort: 500, endPort: 4500 }),
  ];
  const tsr = [addressRange('203.0.113.1', '203.0.113.1', { ipProtocolId: 6, startPort: 443, endPort: 443 })];

  const authRequestHeader: IkeHeader = { ...base, spiI: SPIi, spiR: SPIr, exchangeType: ExchangeType.IKE_AUTH, flags: { initiator: true, version: false, response: false }, messageId: 1 };
  const authResponseHeader: IkeHeader = { ...authRequestHeader, flags: { initiator: false, version: false, response: true } };
  const authRequestPayloads: Payload[] = [
    idPayload(PayloadType.IDi, spec.initiatorId),
    notifyPayload({ name: 'INITIAL_CONTACT' }),
    authPayload(AuthMethod.SHARED_KEY_MIC, authI),
    notifyPayload({ name: 'USE_TRANSPORT_MODE' }),
    saPayload(espProposals(espSpiI)),
    tsPayload(PayloadType.TSi, tsi),
    tsPayload(PayloadType.TSr, tsr),
  ];
  const chosenEsp = espProposals(espSpiR)[0] as Proposal;
  const authResponsePayloads: Payload[] = [
    idPayload(PayloadType.IDr, spec.responderId),
    authPayload(AuthMethod.SHARED_KEY_MIC, authR),
    notifyPayload({ name: 'USE_TRANSPORT_MODE' }),
    saPayload([{ ...chosenEsp, transforms: [transform(TransformType.ENCR, EncrId.ENCR_AES_GCM_16, 256), transform(TransformType.ESN, EsnId.NO_ESN)] }]),
    tsPayload(PayloadType.TSi, tsi),
    tsPayload(PayloadType.TSr, tsr),
  ];
  const authRequest = encodeProtectedMessage(authRequestHeader, authRequestPayloads, skProtectionFor(keys, 'initiator', encryption, integrity), random);
  const authResponse = encodeProtectedMessage(authResponseHeader, authResponsePayloads, skProtectionFor(keys, 'responder', encryption, integrity), random);

  const natt = (e: Endpoint): Endpoint => ({ address: e.address, port: spec.nattPort });
  const datagrams: Datagram[] = [
    { name: 'IKE_SA_INIT request', src: spec.initiator, dst: spec.responder, udpPayload: initRequest, header: initRequestHeader, payloads: initRequestPayloads },
    { name: 'IKE_SA_INIT response', src: spec.responder, dst: spec.initiator, udpPayload: initResponse, header: initResponseHeader, payloads: initResponsePayloads },
    { name: 'IKE_AUTH request', src: natt(spec.initiator), dst: natt(spec.responder), udpPayload: encodeNattIke(authRequest), header: authRequestHeader, payloads: authRequestPayloads },
    { name: 'IKE_AUTH response', src: natt(spec.responder), dst: natt(spec.initiator), udpPayload: encodeNattIke(authResponse), header: authResponseHeader, payloads: authResponsePayloads },
  ];
  return { spec, SPIi, SPIr, keys, encryption, integrity, datagrams, espSpiI, espSpiR, tsi, tsr, authI, authR };
}
