/**
 * The XFRM netlink codec: what the XFRM kernel backend builds requests with and decodes the
 * kernel's answers and notifications with. Pure: no sockets, bytes in and bytes out.
 */
export {
  NETLINK_HEADER_LENGTH,
  NetlinkFlag,
  NetlinkMessageType,
  NetlinkSocketOption,
  SOL_NETLINK,
  decodeAttributes,
  decodeNetlinkError,
  decodeNetlinkMessages,
  encodeAttributes,
  encodeNetlinkMessage,
  netlinkAlign,
  type DecodedNetlinkAttribute,
  type NetlinkAttribute,
  type NetlinkError,
  type NetlinkMessage,
  type NetlinkMessageInit,
} from './netlink.js';
export {
  AF_INET,
  AF_INET6,
  IPPROTO_ESP,
  IPV6_XFRM_POLICY,
  IP_XFRM_POLICY,
  NETLINK_XFRM,
  SOL_IP,
  SOL_IPV6,
  SOL_UDP,
  UDP_ENCAP,
  UDP_ENCAP_ESPINUDP,
  XFRM_INF,
  XfrmAttributeType,
  XfrmMessageType,
  XfrmMulticastGroup,
  XfrmStateFlag,
  type XfrmAction,
  type XfrmDirection,
  type XfrmModeName,
  type XfrmSaMode,
} from './xfrm-constants.js';
export type { XfrmAeadAlgorithm, XfrmCipherAlgorithm, XfrmEncryptionSpec, XfrmIntegrityAlgorithm, XfrmIntegritySpec } from './xfrm-algorithms.js';
export type { XfrmFamily } from './xfrm-spec-checks.js';
export type { XfrmSelector, XfrmSelectorSpec } from './xfrm-selector.js';
export type { XfrmLimits, XfrmUsage, XfrmSaState } from './xfrm-sa-structs.js';
export type { XfrmAlgorithmState, XfrmEncapsulationState, XfrmReplayEsnState } from './xfrm-sa-attributes.js';
export type { XfrmPolicyState, XfrmTemplate } from './xfrm-policy-structs.js';
export { allocSpiRequest, deleteSaRequest, dumpSasRequest, getSaRequest, newSaRequest, type XfrmAllocSpiSpec, type XfrmEncapsulationSpec, type XfrmSaId, type XfrmSaSpec } from './xfrm-sa-requests.js';
export {
  deletePolicyRequest,
  dumpPoliciesRequest,
  getPolicyRequest,
  newPolicyRequest,
  socketBypassPolicy,
  type XfrmPolicyId,
  type XfrmPolicySpec,
  type XfrmPolicyTemplateSpec,
} from './xfrm-policy-requests.js';
export {
  decodeAcquire,
  decodeAllocatedSpi,
  decodeExpire,
  decodePolicyExpire,
  decodePolicyMessage,
  decodeSaMessage,
  decodeXfrmMessage,
  type XfrmAcquire,
  type XfrmEvent,
  type XfrmExpire,
  type XfrmPolicy,
  type XfrmPolicyExpire,
  type XfrmSa,
} from './xfrm-events.js';
export { errnoName, kernelErrorFromErrno } from './xfrm-errors.js';
export { XfrmParseError, type XfrmParseErrorCode } from './xfrm-parse-error.js';
export { xfrmHostUnsupportedReason } from './xfrm-host.js';
