/**
 * The policy structs of linux/xfrm.h, written and read: xfrm_userpolicy_info,
 * xfrm_userpolicy_id and xfrm_user_tmpl. Writers take values already checked by the request
 * builders; readers throw XfrmParseError.
 */
import { XFRM_ID, XFRM_LIFETIME_CFG, XFRM_USER_TMPL, XFRM_USERPOLICY_ID, XFRM_USERPOLICY_INFO } from './xfrm-layout.js';
import { XFRM_INF, XFRM_POLICY_MAX, XFRM_SHARE_ANY, XfrmActionNumber, XfrmDirectionNumber, XfrmModeNumber, type XfrmAction, type XfrmDirection, type XfrmModeName } from './xfrm-constants.js';
import { XfrmParseError, requireBytes } from './xfrm-parse-error.js';
import { readMode, readUsage, type XfrmUsage } from './xfrm-sa-structs.js';
import { readAddress, readSelector, writeSelector, type XfrmSelector, type XfrmSelectorSpec } from './xfrm-selector.js';
import { addressOctets, familyCode, familyFromCode, type XfrmFamily } from './xfrm-spec-checks.js';

/** One xfrm_user_tmpl: the SA a policy's traffic needs. */
export interface XfrmTemplateSpec {
  readonly family: XfrmFamily;
  /** Tunnel endpoints; absent (any, the zero address) in transport mode. */
  readonly source?: string;
  readonly destination?: string;
  readonly protocol: number;
  readonly mode: XfrmModeName;
  readonly reqid: number;
  /** `level use` in ip xfrm: traffic may pass without this SA. */
  readonly optional?: boolean;
}

export interface XfrmTemplate {
  readonly family: XfrmFamily;
  readonly source: string;
  readonly destination: string;
  readonly spi: number;
  readonly protocol: number;
  readonly mode: XfrmModeName;
  readonly reqid: number;
  readonly optional: boolean;
}

/** struct xfrm_userpolicy_info as the kernel reports it (dumps, acquires, policy expires). */
export interface XfrmPolicyState {
  readonly selector: XfrmSelector;
  readonly direction: XfrmDirection;
  /**
   * A socket's own policy (dir XFRM_POLICY_MAX + direction), such as the IKE sockets' bypass:
   * it is in every policy dump while its socket lives, but it is no policy of the SPD, and
   * DELPOLICY and GETPOLICY cannot name it.
   */
  readonly socket: boolean;
  readonly action: XfrmAction;
  readonly priority: number;
  /** The kernel's id of the policy; it encodes the direction in its low 3 bits. */
  readonly index: number;
  readonly flags: number;
  readonly usage: XfrmUsage;
}

export interface UserpolicyInfoFields {
  readonly selector: XfrmSelectorSpec;
  readonly direction: XfrmDirection;
  readonly action: XfrmAction;
  readonly priority: number;
}

/** struct xfrm_userpolicy_info: policies never expire by bytes or packets here (XFRM_INF). */
export function userpolicyInfo(fields: UserpolicyInfoFields): Buffer {
  const L = XFRM_USERPOLICY_INFO;
  const info = Buffer.alloc(L.sizeof);
  writeSelector(info, L.sel, fields.selector);
  writeNoLimits(info, L.lft);
  info.writeUInt32LE(fields.priority, L.priority);
  info.writeUInt8(XfrmDirectionNumber[fields.direction], L.dir);
  info.writeUInt8(XfrmActionNumber[fields.action], L.action);
  info.writeUInt8(XFRM_SHARE_ANY, L.share);
  return info;
}

function writeNoLimits(target: Buffer, at: number): void {
  const L = XFRM_LIFETIME_CFG;
  for (const field of [L.soft_byte_limit, L.hard_byte_limit, L.soft_packet_limit, L.hard_packet_limit]) target.writeBigUInt64LE(XFRM_INF, at + field);
}

/** struct xfrm_userpolicy_id: a policy by selector and direction (index 0: not by index). */
export function userpolicyId(selector: XfrmSelectorSpec, direction: XfrmDirection): Buffer {
  const L = XFRM_USERPOLICY_ID;
  const id = Buffer.alloc(L.sizeof);
  writeSelector(id, L.sel, selector);
  id.writeUInt8(XfrmDirectionNumber[direction], L.dir);
  return id;
}

/** struct xfrm_user_tmpl; aalgos, ealgos and calgos all ones: any algorithm may serve it. */
export function userTmpl(spec: XfrmTemplateSpec): Buffer {
  const L = XFRM_USER_TMPL;
  const zero = spec.family === 4 ? '0.0.0.0' : '::';
  const tmpl = Buffer.alloc(L.sizeof);
  addressOctets(spec.destination ?? zero, spec.family, 'template destination').copy(tmpl, L.id + XFRM_ID.daddr);
  tmpl.writeUInt8(spec.protocol, L.id + XFRM_ID.proto);
  tmpl.writeUInt16LE(familyCode(spec.family), L.family);
  addressOctets(spec.source ?? zero, spec.family, 'template source').copy(tmpl, L.saddr);
  tmpl.writeUInt32LE(spec.reqid, L.reqid);
  tmpl.writeUInt8(XfrmModeNumber[spec.mode], L.mode);
  tmpl.writeUInt8(XFRM_SHARE_ANY, L.share);
  tmpl.writeUInt8(spec.optional === true ? 1 : 0, L.optional);
  for (const field of [L.aalgos, L.ealgos, L.calgos]) tmpl.writeUInt32LE(0xffffffff, field);
  return tmpl;
}

const DIRECTIONS = Object.keys(XfrmDirectionNumber) as XfrmDirection[];
const ACTIONS = Object.keys(XfrmActionNumber) as XfrmAction[];

export function readUserpolicyInfo(source: Buffer, at: number, base: number, what = 'xfrm_userpolicy_info'): XfrmPolicyState {
  const L = XFRM_USERPOLICY_INFO;
  requireBytes(source, at, L.sizeof, what, base);
  const dir = source.readUInt8(at + L.dir);
  const socket = dir >= XFRM_POLICY_MAX;
  const direction = DIRECTIONS.find((name) => XfrmDirectionNumber[name] === (socket ? dir - XFRM_POLICY_MAX : dir));
  if (direction === undefined) throw new XfrmParseError({ code: 'bad-value', offset: base + at + L.dir, what, reason: `dir ${dir} is not in, out or fwd, nor a socket's` });
  const actionNumber = source.readUInt8(at + L.action);
  const action = ACTIONS.find((name) => XfrmActionNumber[name] === actionNumber);
  if (action === undefined) throw new XfrmParseError({ code: 'bad-value', offset: base + at + L.action, what, reason: `action ${actionNumber} is neither allow nor block` });
  return {
    selector: readSelector(source, at + L.sel, base),
    direction,
    socket,
    action,
    priority: source.readUInt32LE(at + L.priority),
    index: source.readUInt32LE(at + L.index),
    flags: source.readUInt8(at + L.flags),
    usage: readUsage(source, at + L.curlft),
  };
}

/** The struct xfrm_user_tmpl array of an XFRMA_TMPL attribute. */
export function readUserTmpls(value: Buffer, base: number): XfrmTemplate[] {
  const L = XFRM_USER_TMPL;
  if (value.length % L.sizeof !== 0) {
    throw new XfrmParseError({ code: 'bad-attribute-length', offset: base, what: 'XFRMA_TMPL', reason: `${value.length} octets are not a whole number of ${L.sizeof}-octet xfrm_user_tmpl` });
  }
  const templates: XfrmTemplate[] = [];
  for (let at = 0; at < value.length; at += L.sizeof) {
    const code = value.readUInt16LE(at + L.family);
    const family = familyFromCode(code);
    if (family === undefined) throw new XfrmParseError({ code: 'bad-value', offset: base + at + L.family, what: 'xfrm_user_tmpl', reason: `family ${code} is neither AF_INET nor AF_INET6` });
    templates.push({
      family,
      destination: readAddress(value, at + L.id + XFRM_ID.daddr, family),
      spi: value.readUInt32BE(at + L.id + XFRM_ID.spi),
      protocol: value.readUInt8(at + L.id + XFRM_ID.proto),
      source: readAddress(value, at + L.saddr, family),
      reqid: value.readUInt32LE(at + L.reqid),
      mode: readMode(value, at + L.mode, base, 'xfrm_user_tmpl'),
      optional: value.readUInt8(at + L.optional) !== 0,
    });
  }
  return templates;
}
