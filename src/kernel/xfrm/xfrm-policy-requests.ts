/**
 * Netlink requests for XFRM policies, from typed specs: add or update a policy with its
 * templates, get one, delete one, dump them; and the per-socket bypass policy for IKE's own
 * sockets. A spec the kernel would refuse throws KernelError('invalid').
 *
 * What the kernel answers, matched by nlmsg_seq: an NLMSG_ERROR, errno 0 on success (NLM_F_ACK),
 * EEXIST for a new policy whose selector and direction are taken, ENOENT for a delete of none;
 * a get: the policy as one XFRM_MSG_NEWPOLICY message, or an NLMSG_ERROR (ENOENT when there is
 * none); a dump: NEWPOLICY messages flagged NLM_F_MULTI, then NLMSG_DONE.
 */
import { NetlinkFlag, encodeNetlinkMessage } from './netlink.js';
import { IPPROTO_ESP, XfrmActionNumber, XfrmAttributeType, XfrmDirectionNumber, XfrmMessageType, type XfrmAction, type XfrmDirection, type XfrmSaMode } from './xfrm-constants.js';
import { XFRM_SELECTOR, XFRM_USERPOLICY_INFO } from './xfrm-layout.js';
import { userTmpl, userpolicyId, userpolicyInfo } from './xfrm-policy-structs.js';
import type { XfrmSelectorSpec } from './xfrm-selector.js';
import { checkedUnsigned, familyCode, invalidSpec, type XfrmFamily } from './xfrm-spec-checks.js';

/** The SA a policy's traffic must go through (an xfrm_user_tmpl). */
export interface XfrmPolicyTemplateSpec {
  readonly family: XfrmFamily;
  /** Tunnel endpoints; leave them out in transport mode (the zero address: any). */
  readonly source?: string;
  readonly destination?: string;
  readonly protocol: 'esp';
  readonly mode: XfrmSaMode;
  /** Ties the policy to its SAs: the kernel uses an SA of this reqid, and names it in acquires. */
  readonly reqid: number;
  /** Traffic may pass without this SA (`level use` in ip xfrm). */
  readonly optional?: boolean;
}

export interface XfrmPolicySpec {
  readonly direction: XfrmDirection;
  readonly selector: XfrmSelectorSpec;
  /** Lower is preferred when several policies match. */
  readonly priority: number;
  readonly action: XfrmAction;
  /** Empty: traffic is allowed (or blocked) without IPsec. */
  readonly templates: readonly XfrmPolicyTemplateSpec[];
}

export interface XfrmPolicyId {
  readonly direction: XfrmDirection;
  readonly selector: XfrmSelectorSpec;
}

/**
 * XFRM_MSG_NEWPOLICY (EEXIST if a policy has this selector and direction), or with `update`
 * XFRM_MSG_UPDPOLICY (adds or replaces). The kernel goes by the message type; the flags say the
 * same for a reader of a capture.
 */
export function newPolicyRequest(seq: number, spec: XfrmPolicySpec, options: { readonly update: boolean }): Buffer {
  checkDirection(spec.direction);
  if (!Object.hasOwn(XfrmActionNumber, spec.action)) invalidSpec(`policy action '${spec.action}' is neither allow nor block`);
  const body = userpolicyInfo({
    selector: spec.selector,
    direction: spec.direction,
    action: spec.action,
    priority: checkedUnsigned(spec.priority, 32, 'policy priority'),
  });
  const templates = spec.templates.map((template, i) => {
    if (template.protocol !== 'esp') invalidSpec(`template ${i}: protocol '${String(template.protocol)}' is not esp`);
    return userTmpl({
      family: template.family,
      ...(template.source === undefined ? {} : { source: template.source }),
      ...(template.destination === undefined ? {} : { destination: template.destination }),
      protocol: IPPROTO_ESP,
      mode: template.mode,
      reqid: checkedUnsigned(template.reqid, 32, `template ${i} reqid`),
      optional: template.optional ?? false,
    });
  });
  const attributes = templates.length === 0 ? [] : [{ type: XfrmAttributeType.TMPL, value: Buffer.concat(templates) }];
  const flags = NetlinkFlag.REQUEST | NetlinkFlag.ACK | NetlinkFlag.CREATE | (options.update ? NetlinkFlag.REPLACE : NetlinkFlag.EXCL);
  return encodeNetlinkMessage({ type: options.update ? XfrmMessageType.UPDPOLICY : XfrmMessageType.NEWPOLICY, flags, seq, body, attributes });
}

/** XFRM_MSG_DELPOLICY by selector and direction (the selector must equal the installed one, masks and all). */
export function deletePolicyRequest(seq: number, id: XfrmPolicyId): Buffer {
  checkDirection(id.direction);
  return encodeNetlinkMessage({ type: XfrmMessageType.DELPOLICY, flags: NetlinkFlag.REQUEST | NetlinkFlag.ACK, seq, body: userpolicyId(id.selector, id.direction) });
}

/**
 * XFRM_MSG_GETPOLICY by selector and direction (as `ip xfrm policy get` asks: no ack, the
 * NEWPOLICY is the answer). Its xfrm_lifetime_cur carries the policy's use_time, which the kernel
 * sets at every lookup of the policy for a packet: the time of its last use.
 */
export function getPolicyRequest(seq: number, id: XfrmPolicyId): Buffer {
  checkDirection(id.direction);
  return encodeNetlinkMessage({ type: XfrmMessageType.GETPOLICY, flags: NetlinkFlag.REQUEST, seq, body: userpolicyId(id.selector, id.direction) });
}

/** XFRM_MSG_GETPOLICY with NLM_F_DUMP: every policy, as `ip xfrm policy list` asks (no struct). */
export function dumpPoliciesRequest(seq: number): Buffer {
  return encodeNetlinkMessage({ type: XfrmMessageType.GETPOLICY, flags: NetlinkFlag.REQUEST | NetlinkFlag.DUMP, seq, body: Buffer.alloc(0) });
}

/**
 * The value of setsockopt(SOL_IP, IP_XFRM_POLICY) or setsockopt(SOL_IPV6, IPV6_XFRM_POLICY) that
 * exempts one socket from the policies, in one direction (set it once for 'in', once for 'out'):
 * a struct xfrm_userpolicy_info that allows without templates, every other field zero. IKE
 * daemons put it on their IKE sockets, so IKE between two gateways still flows when a policy
 * covers the gateways' own addresses (strongSwan's kernel-netlink plugin does the same).
 */
export function socketBypassPolicy(direction: 'in' | 'out', family: XfrmFamily): Buffer {
  checkDirection(direction);
  const policy = Buffer.alloc(XFRM_USERPOLICY_INFO.sizeof);
  policy.writeUInt16LE(familyCode(family), XFRM_USERPOLICY_INFO.sel + XFRM_SELECTOR.family);
  policy.writeUInt8(XfrmDirectionNumber[direction], XFRM_USERPOLICY_INFO.dir);
  policy.writeUInt8(XfrmActionNumber.allow, XFRM_USERPOLICY_INFO.action);
  return policy;
}

function checkDirection(direction: string): void {
  if (!Object.hasOwn(XfrmDirectionNumber, direction)) invalidSpec(`policy direction '${direction}' is not in, out or fwd`);
}
