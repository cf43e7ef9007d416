/**
 * Negotiating a Child SA: the part shared by IKE_AUTH (the first Child SA, RFC 7296 1.2) and
 * CREATE_CHILD_SA (1.3.1, 1.3.3): SA proposals with our inbound SPI, optional KE for PFS, TSi/TSr
 * with narrowing (2.9), USE_TRANSPORT_MODE (1.3.1), and the KEYMAT (2.17).
 *
 *     initiator: SA, [KEi], TSi, TSr, [N(USE_TRANSPORT_MODE)], [N(ESP_TFC_PADDING_NOT_SUPPORTED)]
 *     responder: SA, [KEr], TSi, TSr, [N(USE_TRANSPORT_MODE)]
 *        or an error notify: NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE, INVALID_KE_PAYLOAD,
 *        SINGLE_PAIR_REQUIRED, NO_ADDITIONAL_SAS, INTERNAL_ADDRESS_FAILURE, FAILED_CP_REQUIRED
 *
 * Traffic selectors are named from the initiator's point of view (2.9): TSi is the initiator's
 * side. Here each side keeps its own view ("local" and "remote") in the result.
 */
import { deriveChildSaKeys, type ChildSaKeys } from '../../crypto/ikev2-keys.js';
import type { CryptoRegistry } from '../../crypto/registry.js';
import type { DhKeyPair, RandomPort } from '../../crypto/types.js';
import {
  NotifyType,
  PayloadType,
  kePayload,
  nameOf,
  noncePayload,
  notifyPayload,
  espSpiNumber,
  saPayload,
  tsPayload,
  type KePayload,
  type NotifyPayload,
  type Payload,
  type Proposal,
  type SaPayload,
  type TsPayload,
} from '../../wire/index.js';
import { childCipherOf, ikeTransformsOf, type ChildTransformIds, type IkeRole, type IkeSaSecurity } from '../ike-sa-session.js';
import type { AlgorithmSet } from '../../policy/proposal-syntax.js';
import {
  formatSelector,
  fromWireSelectors,
  isSubsetOf,
  narrowTrafficSelectors,
  toWireSelector,
  type Selector,
} from '../../policy/traffic-selectors.js';
import { hasNotify } from './message-rules.js';
import { checkChosenChildProposal, offerProposals, offersDhGroup, preferredDhGroup, selectChildProposal } from './negotiation.js';
import { unpooledViews } from '../../wire/unpooled.js';

export type ChildMode = 'tunnel' | 'transport';

/** Everything a Child SA machine needs once negotiation is done. Plain data; keys redacted. */
export interface ChildSaParams {
  /** Our inbound SPI (the one we put in our proposal) and the peer's, as unsigned numbers. */
  readonly inboundSpi: number;
  readonly outboundSpi: number;
  readonly transforms: ChildTransformIds;
  readonly keys: ChildSaKeys;
  /** Our role in the exchange that created the SA (decides which KEYMAT half is outbound, 2.17). */
  readonly exchangeRole: IkeRole;
  readonly mode: ChildMode;
  /** Narrowed selectors, our side and the peer's. */
  readonly localTs: readonly Selector[];
  readonly remoteTs: readonly Selector[];
  /** Nonces of the creating exchange (2.8.1 compares them when rekeys collide). */
  readonly Ni: Buffer;
  readonly Nr: Buffer;
}

/**
 * What a Child SA keeps of its negotiation for its life: all but the nonces. They went into its
 * keys (2.17), and a rekey collision (2.8.1) compares the nonces of the two exchanges as they
 * complete, not those of the SAs they replace; kept, they were two Buffers and an allocation of
 * their own per SA.
 */
export type KeptChildSaParams = Omit<ChildSaParams, 'Ni' | 'Nr'>;

/** `params` without what an SA does not keep (KeptChildSaParams). */
export function keptChildSaParams(params: ChildSaParams): KeptChildSaParams {
  return {
    inboundSpi: params.inboundSpi,
    outboundSpi: params.outboundSpi,
    transforms: params.transforms,
    keys: params.keys,
    exchangeRole: params.exchangeRole,
    mode: params.mode,
    localTs: params.localTs,
    remoteTs: params.remoteTs,
  };
}

/**
 * Kept only for machines/ikev2/child-sa.ts, which still imports it under this name; new code
 * imports espSpiBuffer from src/wire.
 */
export { espSpiBuffer as spiBuffer } from '../../wire/spi-text.js';

export function describeSelectors(list: readonly Selector[]): string {
  return list.length === 0 ? 'none' : list.map(formatSelector).join(' ');
}

// ---- initiator ----

/** What the initiator keeps between its request and the response. */
export interface ChildSaOffer {
  readonly inboundSpi: Buffer;
  readonly offer: readonly Proposal[];
  readonly localTs: readonly Selector[];
  readonly remoteTs: readonly Selector[];
  readonly mode: ChildMode;
  /** PFS: our KE pair (CREATE_CHILD_SA only). Secret, kept redacted. */
  readonly keyPair?: DhKeyPair | undefined;
}

export interface ChildOfferInput {
  readonly sets: readonly AlgorithmSet[];
  /** IKE_AUTH: never PFS (no KE in IKE_AUTH, 1.2). */
  readonly inIkeAuth: boolean;
  readonly localTs: readonly Selector[];
  readonly remoteTs: readonly Selector[];
  readonly mode: ChildMode;
  readonly registry: CryptoRegistry;
  readonly random: RandomPort;
  /** A group the responder asked for with INVALID_KE_PAYLOAD, instead of our first choice. */
  readonly dhGroup?: number | undefined;
  /** Our inbound SPI, unique among this node's Child SAs; default a fresh random one. */
  readonly allocateSpi?: (() => Buffer) | undefined;
}

export function createChildOffer(input: ChildOfferInput): ChildSaOffer {
  const inboundSpi = input.allocateSpi?.() ?? drawChildSpi(input.random);
  const offer = offerProposals(input.sets, input.inIkeAuth ? 'esp-no-pfs' : 'esp', inboundSpi, input.registry);
  let keyPair: DhKeyPair | undefined;
  if (!input.inIkeAuth) {
    const group = input.dhGroup ?? preferredDhGroup(offer);
    if (group !== undefined) keyPair = input.registry.dhGroup(group)?.generateKeyPair(input.random);
  }
  return { inboundSpi, offer, localTs: input.localTs, remoteTs: input.remoteTs, mode: input.mode, keyPair };
}

/** A fresh inbound SPI: 4 random octets, never the reserved 0..255 (RFC 4303 2.1). */
export function drawChildSpi(random: RandomPort): Buffer {
  for (;;) {
    const spi = Buffer.from(random(4));
    if (espSpiNumber(spi) > 255) return spi;
  }
}

/** [N(USE_TRANSPORT_MODE)], SA, [Ni], [KEi], TSi, TSr of the initiator (Ni only in CREATE_CHILD_SA). */
export function childRequestPayloads(offer: ChildSaOffer, Ni?: Buffer): Payload[] {
  const payloads: Payload[] = [];
  if (offer.mode === 'transport') payloads.push(notifyPayload({ name: 'USE_TRANSPORT_MODE' }));
  payloads.push(saPayload([...offer.offer]));
  if (Ni !== undefined) payloads.push(noncePayload(Ni));
  if (offer.keyPair !== undefined) payloads.push(kePayload(offer.keyPair.group, offer.keyPair.publicValue));
  payloads.push(
    tsPayload(PayloadType.TSi, offer.localTs.map(toWireSelector)),
    tsPayload(PayloadType.TSr, offer.remoteTs.map(toWireSelector)),
  );
  return payloads;
}

export type ChildResponseOutcome =
  | { readonly kind: 'created'; readonly params: ChildSaParams }
  /** The responder refused the Child SA (2.21.3: the IKE SA stays). */
  | { readonly kind: 'refused'; readonly notify: string; readonly reason: string }
  /** INVALID_KE_PAYLOAD on CREATE_CHILD_SA: retry with this group (1.3). */
  | { readonly kind: 'invalid-ke'; readonly group: number }
  /** A malformed or inconsistent answer. */
  | { readonly kind: 'failed'; readonly reason: string };

export interface ChildResponseInput {
  readonly offer: ChildSaOffer;
  readonly sa: IkeSaSecurity;
  /** Nonces the KEYMAT uses: IKE_SA_INIT's for the first Child SA, the exchange's otherwise. */
  readonly Ni: Buffer;
  readonly Nr: Buffer;
  readonly SA: SaPayload | undefined;
  readonly KE: KePayload | undefined;
  readonly TSi: TsPayload | undefined;
  readonly TSr: TsPayload | undefined;
  readonly payloads: readonly Payload[];
  readonly errorNotify: NotifyPayload | undefined;
  readonly registry: CryptoRegistry;
}

/** The initiator checks the responder's answer for its Child SA. */
export function completeChildResponse(input: ChildResponseInput): ChildResponseOutcome {
  const { offer } = input;
  if (input.errorNotify !== undefined) {
    const name = nameOf(NotifyType, input.errorNotify.notifyType);
    if (input.errorNotify.notifyType === NotifyType.INVALID_KE_PAYLOAD && input.errorNotify.data.length === 2) {
      const group = input.errorNotify.data.readUInt16BE(0);
      if (offersDhGroup(offer.offer, group) && group !== offer.keyPair?.group) return { kind: 'invalid-ke', group };
    }
    return { kind: 'refused', notify: name, reason: `the responder refused the Child SA with ${name}` };
  }
  if (input.SA === undefined || input.TSi === undefined || input.TSr === undefined) {
    return { kind: 'failed', reason: 'the response carries neither a Child SA (SA, TSi, TSr) nor an error notify' };
  }
  const chosen = checkChosenChildProposal(offer.offer, input.SA.proposals);
  if (!chosen.ok) return { kind: 'failed', reason: chosen.error };
  const ids = chosen.value.ids;
  const TSi = fromWireSelectors(input.TSi.selectors);
  const TSr = fromWireSelectors(input.TSr.selectors);
  if (!isSubsetOf(TSi, offer.localTs) || !isSubsetOf(TSr, offer.remoteTs)) {
    return {
      kind: 'failed',
      reason: `the responder's selectors are not a subset of ours (2.9): got TSi ${describeSelectors(TSi)}, TSr ${describeSelectors(TSr)}; offered TSi ${describeSelectors(offer.localTs)}, TSr ${describeSelectors(offer.remoteTs)}`,
    };
  }
  const transport = hasNotify(input.payloads, NotifyType.USE_TRANSPORT_MODE);
  if (offer.mode === 'transport' && !transport) {
    return { kind: 'refused', notify: 'USE_TRANSPORT_MODE', reason: 'we asked for transport mode, the responder answered tunnel mode' };
  }
  let shared: Buffer | undefined;
  if (ids.dh !== undefined) {
    if (offer.keyPair === undefined || input.KE === undefined || input.KE.dhGroup !== ids.dh || offer.keyPair.group !== ids.dh) {
      return { kind: 'failed', reason: `PFS group ${ids.dh} chosen but the KE payloads do not match it` };
    }
    const r = input.registry.dhGroup(ids.dh)?.computeSharedSecret(offer.keyPair, input.KE.keData);
    if (r === undefined || !r.ok) return { kind: 'failed', reason: `the responder's KE value was refused` };
    shared = r.value;
  }
  const keys = childKeys(input.sa, ids, input.Ni, input.Nr, shared, input.registry);
  shared?.fill(0);
  return {
    kind: 'created',
    params: {
      inboundSpi: espSpiNumber(offer.inboundSpi),
      outboundSpi: espSpiNumber(chosen.value.peerSpi),
      transforms: ids,
      keys,
      exchangeRole: 'initiator',
      mode: offer.mode,
      localTs: TSi,
      remoteTs: TSr,
      ...nonceViews(input.Ni, input.Nr),
    },
  };
}

/** A Child SA's nonces in memory of their own (src/wire/unpooled.ts): it keeps them for its life. */
function nonceViews(Ni: Buffer, Nr: Buffer): { Ni: Buffer; Nr: Buffer } {
  const [ownNi, ownNr] = unpooledViews([Ni, Nr]) as [Buffer, Buffer];
  return { Ni: ownNi, Nr: ownNr };
}

/** RFC 7296 2.17: KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr). */
export function childKeys(
  sa: IkeSaSecurity,
  ids: ChildTransformIds,
  Ni: Buffer,
  Nr: Buffer,
  sharedSecret: Buffer | undefined,
  registry: CryptoRegistry,
): ChildSaKeys {
  const { prf } = ikeTransformsOf(sa.transforms, registry);
  const cipher = childCipherOf(ids, registry);
  return deriveChildSaKeys({
    prf,
    SK_d: sa.keys.SK_d,
    Ni,
    Nr,
    sharedSecret,
    encryption: cipher.encryption,
    integrity: cipher.integrity,
  });
}

// ---- responder ----

export interface ChildRequestInput {
  readonly sa: IkeSaSecurity;
  readonly sets: readonly AlgorithmSet[];
  readonly inIkeAuth: boolean;
  /** Our configured selectors and mode. */
  readonly localTs: readonly Selector[];
  readonly remoteTs: readonly Selector[];
  readonly mode: ChildMode;
  readonly Ni: Buffer;
  readonly Nr: Buffer;
  readonly SA: SaPayload;
  readonly KE: KePayload | undefined;
  readonly TSi: TsPayload;
  readonly TSr: TsPayload;
  readonly payloads: readonly Payload[];
  readonly registry: CryptoRegistry;
  readonly random: RandomPort;
  /** CREATE_CHILD_SA: our nonce, placed after SAr in the response (1.3.1). */
  readonly responseNonce?: Buffer | undefined;
  /** Our inbound SPI, unique among this node's Child SAs; default a fresh random one. */
  readonly allocateSpi?: (() => Buffer) | undefined;
}

export type ChildRequestOutcome =
  | { readonly kind: 'created'; readonly params: ChildSaParams; readonly responsePayloads: Payload[] }
  | { readonly kind: 'refused'; readonly notify: NotifyPayload; readonly reason: string };

function errorNotify(notifyType: number): NotifyPayload {
  return notifyPayload({ name: 'other', notifyType, protocolId: 0, spi: Buffer.alloc(0), data: Buffer.alloc(0) });
}

/** The responder's side: choose, narrow, derive; or refuse with the notify to send. */
export function acceptChildRequest(input: ChildRequestInput): ChildRequestOutcome {
  const refuse = (notifyType: number, reason: string, notify: NotifyPayload = errorNotify(notifyType)): ChildRequestOutcome => ({
    kind: 'refused',
    notify,
    reason,
  });
  const ourSpi = Buffer.alloc(4); // filled below once we know we accept
  const kind = input.inIkeAuth ? 'esp-no-pfs' : 'esp';
  const keGroup = input.inIkeAuth ? undefined : input.KE?.dhGroup;
  // Prefer a proposal with the group the initiator sent a KE for (as for IKE_SA_INIT, 1.2).
  const guessed =
    keGroup === undefined
      ? undefined
      : selectChildProposal(input.SA.proposals, input.sets.map((s) => ({ ...s, dh: s.dh.filter((g) => g === keGroup) })), kind, ourSpi, input.registry);
  const selected = guessed?.ok === true ? guessed : selectChildProposal(input.SA.proposals, input.sets, kind, ourSpi, input.registry);
  if (!selected.ok) return refuse(NotifyType.NO_PROPOSAL_CHOSEN, selected.error);
  const ids = selected.value.ids;

  const offeredTsi = fromWireSelectors(input.TSi.selectors);
  const offeredTsr = fromWireSelectors(input.TSr.selectors);
  const narrowed = narrowTrafficSelectors({ TSi: offeredTsi, TSr: offeredTsr }, { local: input.localTs, remote: input.remoteTs });
  if (!narrowed.ok) return refuse(NotifyType.TS_UNACCEPTABLE, narrowed.error.reason);

  const wantsTransport = hasNotify(input.payloads, NotifyType.USE_TRANSPORT_MODE);
  // RFC 7296 1.3.1: a responder that does not accept transport mode answers in tunnel mode;
  // ikekm's policy names one mode, and tunnel-only when asked for transport means no SA.
  if (wantsTransport !== (input.mode === 'transport')) {
    return refuse(
      NotifyType.NO_PROPOSAL_CHOSEN,
      `mode mismatch: the initiator asks for ${wantsTransport ? 'transport' : 'tunnel'} mode, policy is ${input.mode}`,
    );
  }

  let shared: Buffer | undefined;
  let ke: KePayload | undefined;
  if (ids.dh !== undefined) {
    if (input.KE === undefined || input.KE.dhGroup !== ids.dh) {
      return refuse(
        NotifyType.INVALID_KE_PAYLOAD,
        `PFS group ${ids.dh} chosen, the initiator's KE is for ${input.KE?.dhGroup ?? 'no group'}`,
        notifyPayload({ name: 'INVALID_KE_PAYLOAD', dhGroup: ids.dh }),
      );
    }
    const group = input.registry.dhGroup(ids.dh);
    if (group === undefined) return refuse(NotifyType.NO_PROPOSAL_CHOSEN, `DH group ${ids.dh} not available`);
    const pair = group.generateKeyPair(input.random);
    const r = group.computeSharedSecret(pair, input.KE.keData);
    pair.privateKey.fill(0);
    if (!r.ok) return refuse(NotifyType.INVALID_SYNTAX, `the initiator's KE value was refused: ${r.error.kind}`);
    shared = r.value;
    ke = kePayload(ids.dh, pair.publicValue);
  }

  (input.allocateSpi?.() ?? drawChildSpi(input.random)).copy(ourSpi);
  const keys = childKeys(input.sa, ids, input.Ni, input.Nr, shared, input.registry);
  shared?.fill(0);

  const responsePayloads: Payload[] = [];
  if (input.mode === 'transport') responsePayloads.push(notifyPayload({ name: 'USE_TRANSPORT_MODE' }));
  responsePayloads.push(saPayload([selected.value.chosen]));
  if (input.responseNonce !== undefined) responsePayloads.push(noncePayload(input.responseNonce));
  if (ke !== undefined) responsePayloads.push(ke);
  responsePayloads.push(
    tsPayload(PayloadType.TSi, narrowed.value.TSi.map(toWireSelector)),
    tsPayload(PayloadType.TSr, narrowed.value.TSr.map(toWireSelector)),
  );
  return {
    kind: 'created',
    responsePayloads,
    params: {
      inboundSpi: espSpiNumber(ourSpi),
      outboundSpi: espSpiNumber(selected.value.peerSpi),
      transforms: ids,
      keys,
      exchangeRole: 'responder',
      mode: input.mode,
      localTs: narrowed.value.TSr,
      remoteTs: narrowed.value.TSi,
      ...nonceViews(input.Ni, input.Nr),
    },
  };
}
