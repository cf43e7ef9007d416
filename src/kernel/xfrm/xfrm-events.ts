/**
 * Decoders for what the kernel sends on a NETLINK_XFRM socket: replies (an SA from GETSA or
 * ALLOCSPI, SAs and policies from dumps), notifications (EXPIRE, ACQUIRE, POLEXPIRE from the
 * XFRMNLGRP_EXPIRE and XFRMNLGRP_ACQUIRE groups), errors, acks and the end of a dump. Total:
 * every one returns a Result and none throws, whatever the bytes.
 */
import { err, type Result } from '../../result.js';
import { NETLINK_HEADER_LENGTH, NetlinkMessageType, decodeNetlinkError, netlinkAlign, readAttributes, type DecodedNetlinkAttribute, type NetlinkError, type NetlinkMessage } from './netlink.js';
import { XfrmAttributeType, XfrmMessageType } from './xfrm-constants.js';
import { XFRM_ALGO, XFRM_ALGO_AUTH, XFRM_ID, XFRM_USER_ACQUIRE, XFRM_USER_EXPIRE, XFRM_USER_POLEXPIRE, XFRM_USERPOLICY_INFO, XFRM_USERSA_INFO } from './xfrm-layout.js';
import { XfrmParseError, catchXfrmParseError, requireBytes } from './xfrm-parse-error.js';
import { readUserTmpls, readUserpolicyInfo, type XfrmPolicyState, type XfrmTemplate } from './xfrm-policy-structs.js';
import { readAlgorithm, readEncapTmpl, readReplayStateEsn, type XfrmAlgorithmState, type XfrmEncapsulationState, type XfrmReplayEsnState } from './xfrm-sa-attributes.js';
import { readUsersaInfo, type XfrmSaState } from './xfrm-sa-structs.js';
import { readAddress, readSelector, type XfrmSelector } from './xfrm-selector.js';

/** An SA as the kernel reports it: the struct and the attributes ikekm reads. */
export interface XfrmSa extends XfrmSaState {
  /** XFRMA_ALG_AEAD (icvBits set) or XFRMA_ALG_CRYPT. */
  readonly encryption?: XfrmAlgorithmState;
  /** XFRMA_ALG_AUTH_TRUNC (icvBits is the truncation) or XFRMA_ALG_AUTH. */
  readonly integrity?: XfrmAlgorithmState;
  readonly encapsulation?: XfrmEncapsulationState;
  readonly replayEsn?: XfrmReplayEsnState;
}

export interface XfrmPolicy extends XfrmPolicyState {
  readonly templates: readonly XfrmTemplate[];
}

/** XFRM_MSG_EXPIRE: an SA reached a soft limit (rekey it) or a hard one (the kernel deleted it). */
export interface XfrmExpire {
  readonly sa: XfrmSaState;
  readonly hard: boolean;
}

/**
 * XFRM_MSG_ACQUIRE: an outbound packet matched a policy whose template has no SA. The kernel has
 * installed a larval SA for (saSource, saDestination, reqid); `seq` names it, for allocSpiRequest.
 */
export interface XfrmAcquire {
  readonly seq: number;
  /** The SA the template asks for: its outer addresses (the template's) and protocol. */
  readonly saSource: string;
  readonly saDestination: string;
  readonly protocol: number;
  /**
   * The packet: addresses, protocol and ports, prefix lengths at full length. For ICMP the
   * kernel puts the type in sourcePort and the code in destinationPort.
   */
  readonly packet: XfrmSelector;
  /** The policy the packet matched, with its selector and index. */
  readonly policy: XfrmPolicyState;
  /** The first template's reqid (XFRMA_TMPL); undefined if the kernel sent no template. */
  readonly reqid: number | undefined;
  readonly templates: readonly XfrmTemplate[];
}

export interface XfrmPolicyExpire {
  readonly policy: XfrmPolicyState;
  readonly hard: boolean;
}

export type XfrmEvent =
  | { readonly kind: 'sa'; readonly sa: XfrmSa }
  | { readonly kind: 'policy'; readonly policy: XfrmPolicy }
  | { readonly kind: 'expire'; readonly expire: XfrmExpire }
  | { readonly kind: 'acquire'; readonly acquire: XfrmAcquire }
  | { readonly kind: 'policy-expire'; readonly policyExpire: XfrmPolicyExpire }
  /** NLMSG_ERROR with errno 0: the request `requestSeq` succeeded. */
  | { readonly kind: 'ack'; readonly requestSeq: number }
  | { readonly kind: 'error'; readonly error: NetlinkError }
  | { readonly kind: 'done'; readonly seq: number }
  /** Anything else (a DELSA notification, NLMSG_NOOP…): the type, for the caller to log or ignore. */
  | { readonly kind: 'other'; readonly type: number; readonly seq: number };

/** Any message from a NETLINK_XFRM socket, by its type. */
export function decodeXfrmMessage(message: NetlinkMessage): Result<XfrmEvent, XfrmParseError> {
  const as = <T>(result: Result<T, XfrmParseError>, event: (value: T) => XfrmEvent): Result<XfrmEvent, XfrmParseError> =>
    result.ok ? { ok: true, value: event(result.value) } : result;
  switch (message.type) {
    case XfrmMessageType.NEWSA:
    case XfrmMessageType.UPDSA:
      return as(decodeSaMessage(message), (sa) => ({ kind: 'sa', sa }));
    case XfrmMessageType.NEWPOLICY:
    case XfrmMessageType.UPDPOLICY:
      return as(decodePolicyMessage(message), (policy) => ({ kind: 'policy', policy }));
    case XfrmMessageType.EXPIRE:
      return as(decodeExpire(message), (expire) => ({ kind: 'expire', expire }));
    case XfrmMessageType.ACQUIRE:
      return as(decodeAcquire(message), (acquire) => ({ kind: 'acquire', acquire }));
    case XfrmMessageType.POLEXPIRE:
      return as(decodePolicyExpire(message), (policyExpire) => ({ kind: 'policy-expire', policyExpire }));
    case NetlinkMessageType.ERROR:
      return as(decodeNetlinkError(message), (error): XfrmEvent => (error.errno === 0 ? { kind: 'ack', requestSeq: error.requestSeq } : { kind: 'error', error }));
    case NetlinkMessageType.DONE:
      return { ok: true, value: { kind: 'done', seq: message.seq } };
    default:
      return { ok: true, value: { kind: 'other', type: message.type, seq: message.seq } };
  }
}

/** XFRM_MSG_NEWSA (or UPDSA): a struct xfrm_usersa_info and its attributes. */
export function decodeSaMessage(message: NetlinkMessage): Result<XfrmSa, XfrmParseError> {
  if (message.type !== XfrmMessageType.NEWSA && message.type !== XfrmMessageType.UPDSA) return unexpected(message, 'xfrm_usersa_info', 'XFRM_MSG_NEWSA');
  return catchXfrmParseError(() => {
    const base = bodyOffset(message);
    const state = readUsersaInfo(message.payload, 0, base);
    const sa: { -readonly [K in keyof XfrmSa]: XfrmSa[K] } = { ...state };
    for (const attribute of attributesAfter(message, XFRM_USERSA_INFO.sizeof)) {
      const at = attribute.offset + 4;
      switch (attribute.type) {
        case XfrmAttributeType.ALG_AEAD:
          sa.encryption = readAlgorithm(attribute.value, at, 'xfrm_algo_aead', XFRM_ALGO_AUTH.sizeof);
          break;
        case XfrmAttributeType.ALG_CRYPT:
          sa.encryption = readAlgorithm(attribute.value, at, 'xfrm_algo', XFRM_ALGO.sizeof);
          break;
        case XfrmAttributeType.ALG_AUTH_TRUNC:
          sa.integrity = readAlgorithm(attribute.value, at, 'xfrm_algo_auth', XFRM_ALGO_AUTH.sizeof);
          break;
        case XfrmAttributeType.ALG_AUTH:
          // The kernel reports ALG_AUTH_TRUNC too; the plain one (no truncation field) only stands in when it is alone.
          sa.integrity ??= readAlgorithm(attribute.value, at, 'xfrm_algo', XFRM_ALGO.sizeof);
          break;
        case XfrmAttributeType.ENCAP:
          sa.encapsulation = readEncapTmpl(attribute.value, at);
          break;
        case XfrmAttributeType.REPLAY_ESN_VAL:
          sa.replayEsn = readReplayStateEsn(attribute.value, at);
          break;
        default:
          break;
      }
    }
    return sa;
  });
}

/** The SPI the kernel chose, from its XFRM_MSG_NEWSA answer to allocSpiRequest. */
export function decodeAllocatedSpi(message: NetlinkMessage): Result<number, XfrmParseError> {
  if (message.type !== XfrmMessageType.NEWSA) return unexpected(message, 'xfrm_usersa_info', 'XFRM_MSG_NEWSA');
  return catchXfrmParseError(() => {
    requireBytes(message.payload, 0, XFRM_USERSA_INFO.sizeof, 'xfrm_usersa_info', bodyOffset(message));
    return message.payload.readUInt32BE(XFRM_USERSA_INFO.id + XFRM_ID.spi);
  });
}

/** XFRM_MSG_NEWPOLICY (or UPDPOLICY, as in dumps): a struct xfrm_userpolicy_info and its templates. */
export function decodePolicyMessage(message: NetlinkMessage): Result<XfrmPolicy, XfrmParseError> {
  if (message.type !== XfrmMessageType.NEWPOLICY && message.type !== XfrmMessageType.UPDPOLICY) return unexpected(message, 'xfrm_userpolicy_info', 'XFRM_MSG_NEWPOLICY');
  return catchXfrmParseError(() => {
    const policy = readUserpolicyInfo(message.payload, 0, bodyOffset(message));
    return { ...policy, templates: templatesIn(attributesAfter(message, XFRM_USERPOLICY_INFO.sizeof)) };
  });
}

/** struct xfrm_user_expire: the SA (an xfrm_usersa_info) and whether the limit was hard. */
export function decodeExpire(message: NetlinkMessage): Result<XfrmExpire, XfrmParseError> {
  if (message.type !== XfrmMessageType.EXPIRE) return unexpected(message, 'xfrm_user_expire', 'XFRM_MSG_EXPIRE');
  return catchXfrmParseError(() => {
    const base = bodyOffset(message);
    requireBytes(message.payload, 0, XFRM_USER_EXPIRE.sizeof, 'xfrm_user_expire', base);
    return { sa: readUsersaInfo(message.payload, XFRM_USER_EXPIRE.state, base, 'xfrm_user_expire'), hard: message.payload.readUInt8(XFRM_USER_EXPIRE.hard) !== 0 };
  });
}

/** struct xfrm_user_acquire and the XFRMA_TMPL of the policy that raised it. */
export function decodeAcquire(message: NetlinkMessage): Result<XfrmAcquire, XfrmParseError> {
  if (message.type !== XfrmMessageType.ACQUIRE) return unexpected(message, 'xfrm_user_acquire', 'XFRM_MSG_ACQUIRE');
  return catchXfrmParseError(() => {
    const L = XFRM_USER_ACQUIRE;
    const base = bodyOffset(message);
    const body = message.payload;
    requireBytes(body, 0, L.sizeof, 'xfrm_user_acquire', base);
    const packet = readSelector(body, L.sel, base);
    const policy = readUserpolicyInfo(body, L.policy, base, 'xfrm_user_acquire');
    const templates = templatesIn(attributesAfter(message, L.sizeof));
    // xfrm_user_acquire has no family of its own: its xfrm_id and saddr are the template's.
    const family = templates[0]?.family ?? packet.family;
    return {
      seq: body.readUInt32LE(L.seq),
      saDestination: readAddress(body, L.id + XFRM_ID.daddr, family),
      saSource: readAddress(body, L.saddr, family),
      protocol: body.readUInt8(L.id + XFRM_ID.proto),
      packet,
      policy,
      reqid: templates[0]?.reqid,
      templates,
    };
  });
}

/** struct xfrm_user_polexpire: the policy and whether its limit was hard. */
export function decodePolicyExpire(message: NetlinkMessage): Result<XfrmPolicyExpire, XfrmParseError> {
  if (message.type !== XfrmMessageType.POLEXPIRE) return unexpected(message, 'xfrm_user_polexpire', 'XFRM_MSG_POLEXPIRE');
  return catchXfrmParseError(() => {
    const base = bodyOffset(message);
    requireBytes(message.payload, 0, XFRM_USER_POLEXPIRE.sizeof, 'xfrm_user_polexpire', base);
    return { policy: readUserpolicyInfo(message.payload, XFRM_USER_POLEXPIRE.pol, base, 'xfrm_user_polexpire'), hard: message.payload.readUInt8(XFRM_USER_POLEXPIRE.hard) !== 0 };
  });
}

function bodyOffset(message: NetlinkMessage): number {
  return message.offset + NETLINK_HEADER_LENGTH;
}

/** The attributes after a fixed struct of `size` octets (padded to 4, NLMSG_ALIGN). */
function attributesAfter(message: NetlinkMessage, size: number): DecodedNetlinkAttribute[] {
  const start = Math.min(message.payload.length, netlinkAlign(size));
  return readAttributes(message.payload.subarray(start), bodyOffset(message) + start);
}

function templatesIn(attributes: readonly DecodedNetlinkAttribute[]): XfrmTemplate[] {
  const tmpl = attributes.find((attribute) => attribute.type === XfrmAttributeType.TMPL);
  return tmpl === undefined ? [] : readUserTmpls(tmpl.value, tmpl.offset + 4);
}

function unexpected<T>(message: NetlinkMessage, what: string, expected: string): Result<T, XfrmParseError> {
  return err(new XfrmParseError({ code: 'unexpected-message', offset: message.offset, what, reason: `message type ${message.type} is not ${expected}` }));
}
