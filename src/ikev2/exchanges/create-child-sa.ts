/**
 * CREATE_CHILD_SA (RFC 7296 1.3): new Child SAs, rekeying a Child SA, rekeying the IKE SA. All
 * inside SK. The exchange has three forms, told apart by their payloads:
 *
 *   new Child SA (1.3.1)
 *     HDR, SK {SA, Ni, [KEi,] TSi, TSr}           -->  <--  HDR, SK {SA, Nr, [KEr,] TSi, TSr}
 *   rekey a Child SA (1.3.3)
 *     HDR, SK {N(REKEY_SA), SA, Ni, [KEi,] TSi, TSr} --> <--  HDR, SK {SA, Nr, [KEr,] TSi, TSr}
 *   rekey the IKE SA (1.3.2, 2.18)
 *     HDR, SK {SA, Ni, KEi}                       -->  <--  HDR, SK {SA, Nr, KEr}
 *
 * A KE payload in a Child SA form means PFS: KEYMAT = prf+(SK_d, g^ir (new) | Ni | Nr) (2.17).
 * Errors instead of the response: NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE, INVALID_KE_PAYLOAD (the
 * initiator retries with the group named, 1.3), TEMPORARY_FAILURE (try again later, e.g. while an
 * IKE SA rekey is in progress, 2.25), CHILD_SA_NOT_FOUND (the SA to rekey is gone, 2.25).
 *
 * An IKE SA rekey makes a new IKE SA with the SPIs of the two proposals; its keys come from the
 * old SK_d (2.18) and the Child SAs move to it. The rekey's initiator then deletes the old IKE SA.
 */
import { deriveRekeyedIkeSaKeys } from '../../crypto/ikev2-keys.js';
import type { CryptoRegistry } from '../../crypto/registry.js';
import type { DhKeyPair, RandomPort } from '../../crypto/types.js';
import {
  ESP_SPI_LENGTH,
  ExchangeType,
  NONCE_MAX_LENGTH,
  NONCE_MIN_LENGTH,
  NotifyType,
  ProtocolId,
  espSpiBuffer,
  espSpiNumber,
  kePayload,
  nameOf,
  noncePayload,
  notifyDataOf,
  notifyPayload,
  saPayload,
  type KePayload,
  type NotifyPayload,
  type Payload,
  type Proposal,
  type SaPayload,
} from '../../wire/index.js';
import { ikeTransformsOf, type IkeSaSecurity } from '../ike-sa-session.js';
import type { AlgorithmSet } from '../../policy/proposal-syntax.js';
import { childRequestPayloads, type ChildSaOffer } from './child-sa-negotiation.js';
import { notifiesOf, type CheckedPayloads, type MessageRule } from './message-rules.js';
import { checkChosenIkeProposal, offersDhGroup, selectIkeProposal } from './negotiation.js';
import { unpooledViews } from '../../wire/unpooled.js';

export const CREATE_CHILD_SA_REQUEST = {
  name: 'CREATE_CHILD_SA request',
  rfc: 'RFC 7296 1.3',
  exchangeType: ExchangeType.CREATE_CHILD_SA,
  response: false,
  encrypted: true,
  payloads: { SA: 'required', Nonce: 'required', KE: 'optional', TSi: 'optional', TSr: 'optional' },
  notifies: [
    { notify: 'REKEY_SA', meaning: 'this exchange replaces the Child SA whose SPI it carries (1.3.3)' },
    { notify: 'USE_TRANSPORT_MODE', meaning: 'transport mode for the new Child SA (1.3.1)' },
    { notify: 'ESP_TFC_PADDING_NOT_SUPPORTED', meaning: 'no TFC padding (1.3.1)' },
  ],
} as const satisfies MessageRule;

export const CREATE_CHILD_SA_RESPONSE = {
  name: 'CREATE_CHILD_SA response',
  rfc: 'RFC 7296 1.3',
  exchangeType: ExchangeType.CREATE_CHILD_SA,
  response: true,
  encrypted: true,
  payloads: { SA: 'optional', Nonce: 'optional', KE: 'optional', TSi: 'optional', TSr: 'optional' },
  notifies: [
    { notify: 'USE_TRANSPORT_MODE', meaning: 'the new Child SA is in transport mode (1.3.1)' },
    { notify: 'NO_PROPOSAL_CHOSEN', meaning: 'instead of SA/Nr: refused (2.21.3)' },
    { notify: 'TS_UNACCEPTABLE', meaning: 'instead of SA/Nr: refused (2.21.3)' },
    { notify: 'INVALID_KE_PAYLOAD', meaning: 'instead of SA/Nr: retry with the group named (1.3)' },
    { notify: 'TEMPORARY_FAILURE', meaning: 'instead of SA/Nr: retry later (2.25)' },
    { notify: 'CHILD_SA_NOT_FOUND', meaning: 'instead of SA/Nr: the SA to rekey is gone (2.25)' },
  ],
} as const satisfies MessageRule;

export type CreateChildSaRequest = CheckedPayloads<(typeof CREATE_CHILD_SA_REQUEST)['payloads']>;

/** Which of the three forms a request is. */
export type CreateChildSaForm =
  | { readonly kind: 'new-child' }
  | { readonly kind: 'rekey-child'; readonly spi: number }
  | { readonly kind: 'rekey-ike' }
  | { readonly kind: 'invalid'; readonly reason: string };

export function formOf(request: CreateChildSaRequest): CreateChildSaForm {
  const ikeProposals = request.SA.proposals.filter((p) => p.protocolId === ProtocolId.IKE);
  if (ikeProposals.length > 0) {
    if (request.TSi !== undefined || request.TSr !== undefined) return { kind: 'invalid', reason: 'an IKE SA rekey carries no TSi/TSr' };
    if (request.KE === undefined) return { kind: 'invalid', reason: 'an IKE SA rekey needs KEi (1.3.2)' };
    return { kind: 'rekey-ike' };
  }
  if (request.TSi === undefined || request.TSr === undefined) return { kind: 'invalid', reason: 'a Child SA needs TSi and TSr' };
  const rekey = notifiesOf(request.N, NotifyType.REKEY_SA)[0];
  if (rekey !== undefined) {
    const data = notifyDataOf(rekey);
    if (data?.name !== 'REKEY_SA' || data.spi.length !== ESP_SPI_LENGTH) return { kind: 'invalid', reason: 'REKEY_SA without a 4-octet ESP SPI' };
    return { kind: 'rekey-child', spi: espSpiNumber(data.spi) };
  }
  return { kind: 'new-child' };
}

export function nonceProblem(nonce: Buffer): string | undefined {
  return nonce.length < NONCE_MIN_LENGTH || nonce.length > NONCE_MAX_LENGTH
    ? `nonce of ${nonce.length} octets, RFC 7296 2.10 requires ${NONCE_MIN_LENGTH}..${NONCE_MAX_LENGTH}`
    : undefined;
}

// ---- Child SA forms ----

/** [N(REKEY_SA)], [N(USE_TRANSPORT_MODE)], SA, Ni, [KEi], TSi, TSr. */
export function childSaRequestPayloads(offer: ChildSaOffer, Ni: Buffer, rekeySpi?: number): Payload[] {
  const payloads: Payload[] = [];
  if (rekeySpi !== undefined) payloads.push(notifyPayload({ name: 'REKEY_SA', protocolId: ProtocolId.ESP, spi: espSpiBuffer(rekeySpi) }));
  payloads.push(...childRequestPayloads(offer, Ni));
  return payloads;
}

export function errorNotify(notifyType: number): NotifyPayload {
  return notifyPayload({ name: 'other', notifyType, protocolId: 0, spi: Buffer.alloc(0), data: Buffer.alloc(0) });
}

// ---- IKE SA rekey (2.18) ----

/** What the rekey's initiator keeps until the response. */
export interface IkeRekeyOffer {
  readonly newSpi: Buffer;
  readonly offer: readonly Proposal[];
  readonly keyPair: DhKeyPair;
  readonly Ni: Buffer;
}

export function ikeRekeyRequestPayloads(o: IkeRekeyOffer): Payload[] {
  return [saPayload([...o.offer]), noncePayload(o.Ni), kePayload(o.keyPair.group, o.keyPair.publicValue)];
}

export type IkeRekeyOutcome =
  | { readonly kind: 'rekeyed'; readonly security: IkeSaSecurity; readonly Nr: Buffer }
  | { readonly kind: 'invalid-ke'; readonly group: number }
  | { readonly kind: 'refused'; readonly notify: string; readonly reason: string }
  | { readonly kind: 'failed'; readonly reason: string };

/** RFC 7296 2.18: the new IKE SA's keys; SPIi is the rekey initiator's new SPI. */
function rekeyedSecurity(
  old: IkeSaSecurity,
  ids: IkeSaSecurity['transforms'],
  role: IkeSaSecurity['role'],
  spiI: Buffer,
  spiR: Buffer,
  Ni: Buffer,
  Nr: Buffer,
  sharedSecret: Buffer,
  registry: CryptoRegistry,
): IkeSaSecurity {
  const oldT = ikeTransformsOf(old.transforms, registry);
  const t = ikeTransformsOf(ids, registry);
  const keys = deriveRekeyedIkeSaKeys({
    oldPrf: oldT.prf,
    oldSK_d: old.keys.SK_d,
    prf: t.prf,
    integrity: t.integrity,
    encryption: t.encryption,
    Ni,
    Nr,
    sharedSecret,
    SPIi: spiI,
    SPIr: spiR,
  });
  // The SPIs live as long as the SA: in memory of their own (src/wire/unpooled.ts).
  const [ownSpiI, ownSpiR] = unpooledViews([spiI, spiR]) as [Buffer, Buffer];
  return { spiI: ownSpiI, spiR: ownSpiR, role, transforms: ids, keys };
}

/** The rekey's initiator reads the response. */
export function completeIkeRekey(
  old: IkeSaSecurity,
  o: IkeRekeyOffer,
  response: { SA: SaPayload | undefined; Nonce: Buffer | undefined; KE: KePayload | undefined; error: NotifyPayload | undefined },
  registry: CryptoRegistry,
): IkeRekeyOutcome {
  if (response.error !== undefined) {
    const data = notifyDataOf(response.error);
    if (data?.name === 'INVALID_KE_PAYLOAD' && offersDhGroup(o.offer, data.dhGroup) && data.dhGroup !== o.keyPair.group) {
      return { kind: 'invalid-ke', group: data.dhGroup };
    }
    const name = nameOf(NotifyType, response.error.notifyType);
    return { kind: 'refused', notify: name, reason: `the peer refused the IKE SA rekey with ${name}` };
  }
  if (response.SA === undefined || response.Nonce === undefined || response.KE === undefined) {
    return { kind: 'failed', reason: 'IKE SA rekey response without SA, Nr and KEr' };
  }
  const badNonce = nonceProblem(response.Nonce);
  if (badNonce !== undefined) return { kind: 'failed', reason: badNonce };
  const chosen = checkChosenIkeProposal(o.offer, response.SA.proposals);
  if (!chosen.ok) return { kind: 'failed', reason: chosen.error };
  if (chosen.value.peerSpi.length !== 8) return { kind: 'failed', reason: 'IKE SA rekey response without an 8-octet SPI' };
  if (response.KE.dhGroup !== chosen.value.ids.dh || o.keyPair.group !== chosen.value.ids.dh) {
    return { kind: 'failed', reason: `KEr is for group ${response.KE.dhGroup}, the chosen proposal has ${chosen.value.ids.dh}` };
  }
  const shared = registry.dhGroup(chosen.value.ids.dh)?.computeSharedSecret(o.keyPair, response.KE.keData);
  if (shared === undefined || !shared.ok) return { kind: 'failed', reason: 'the peer KE value was refused' };
  const Nr = Buffer.from(response.Nonce);
  const security = rekeyedSecurity(old, chosen.value.ids, 'initiator', o.newSpi, Buffer.from(chosen.value.peerSpi), o.Ni, Nr, shared.value, registry);
  shared.value.fill(0);
  return { kind: 'rekeyed', security, Nr };
}

export type IkeRekeyAnswer =
  | { readonly kind: 'rekeyed'; readonly security: IkeSaSecurity; readonly responsePayloads: Payload[]; readonly Ni: Buffer; readonly Nr: Buffer }
  | { readonly kind: 'refused'; readonly notify: NotifyPayload; readonly reason: string };

/** The rekey's responder: choose, compute, answer. `newSpi` is our SPI for the new IKE SA. */
export function acceptIkeRekey(
  old: IkeSaSecurity,
  request: CreateChildSaRequest,
  sets: readonly AlgorithmSet[],
  newSpi: Buffer,
  nonceLength: number,
  registry: CryptoRegistry,
  random: RandomPort,
): IkeRekeyAnswer {
  const KE = request.KE;
  if (KE === undefined) return { kind: 'refused', notify: errorNotify(NotifyType.INVALID_SYNTAX), reason: 'IKE SA rekey without KEi' };
  const Ni = Buffer.from(request.Nonce.data);
  const badNonce = nonceProblem(Ni);
  if (badNonce !== undefined) return { kind: 'refused', notify: errorNotify(NotifyType.INVALID_SYNTAX), reason: badNonce };
  const withGuess = sets.map((s) => ({ ...s, dh: s.dh.filter((g) => g === KE.dhGroup) }));
  const guessed = selectIkeProposal(request.SA.proposals, withGuess, newSpi, registry);
  const selected = guessed.ok ? guessed : selectIkeProposal(request.SA.proposals, sets, newSpi, registry);
  if (!selected.ok) return { kind: 'refused', notify: errorNotify(NotifyType.NO_PROPOSAL_CHOSEN), reason: selected.error };
  const ids = selected.value.ids;
  if (selected.value.peerSpi.length !== 8) {
    return { kind: 'refused', notify: errorNotify(NotifyType.INVALID_SYNTAX), reason: 'IKE SA rekey proposal without an 8-octet SPI' };
  }
  if (KE.dhGroup !== ids.dh) {
    return {
      kind: 'refused',
      notify: notifyPayload({ name: 'INVALID_KE_PAYLOAD', dhGroup: ids.dh }),
      reason: `KEi is for group ${KE.dhGroup}, the selected proposal uses ${ids.dh}`,
    };
  }
  const group = registry.dhGroup(ids.dh);
  if (group === undefined) return { kind: 'refused', notify: errorNotify(NotifyType.NO_PROPOSAL_CHOSEN), reason: `group ${ids.dh} unavailable` };
  const pair = group.generateKeyPair(random);
  const shared = group.computeSharedSecret(pair, KE.keData);
  pair.privateKey.fill(0);
  if (!shared.ok) return { kind: 'refused', notify: errorNotify(NotifyType.INVALID_SYNTAX), reason: `KEi refused: ${shared.error.kind}` };
  const Nr = random(Math.max(nonceLength, NONCE_MIN_LENGTH));
  const security = rekeyedSecurity(old, ids, 'responder', Buffer.from(selected.value.peerSpi), newSpi, Ni, Nr, shared.value, registry);
  shared.value.fill(0);
  return {
    kind: 'rekeyed',
    security,
    Ni,
    Nr,
    responsePayloads: [saPayload([selected.value.chosen]), noncePayload(Nr), kePayload(ids.dh, pair.publicValue)],
  };
}
