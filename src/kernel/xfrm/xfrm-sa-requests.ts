/**
 * Netlink requests for XFRM SAs, from typed specs: reserve an SPI, add or update an SA, get,
 * delete and dump them. Each builder returns one whole message (header included) to write to a
 * NETLINK_XFRM socket; a spec the kernel would refuse throws KernelError('invalid').
 *
 * What the kernel answers, matched by nlmsg_seq:
 * - newSaRequest, deleteSaRequest: an NLMSG_ERROR, errno 0 on success (NLM_F_ACK).
 * - allocSpiRequest, getSaRequest: an XFRM_MSG_NEWSA message, or an NLMSG_ERROR; no ack after
 *   the NEWSA (NLM_F_ACK is not set, as `ip xfrm` does not set it), so one answer either way.
 * - dumpSasRequest: NEWSA messages flagged NLM_F_MULTI, then NLMSG_DONE.
 */
import { NetlinkFlag, encodeNetlinkMessage, type NetlinkAttribute } from './netlink.js';
import { checkEncryption, checkIntegrity, isAeadAlgorithm, type XfrmEncryptionSpec, type XfrmIntegritySpec } from './xfrm-algorithms.js';
import { IPPROTO_ESP, UDP_ENCAP_ESPINUDP, XFRMA_REPLAY_ESN_MAX, XfrmAttributeType, XfrmMessageType, XfrmStateFlag, type XfrmSaMode } from './xfrm-constants.js';
import { algo, algoAead, algoAuth, encapTmpl, replayStateEsn } from './xfrm-sa-attributes.js';
import { userspiInfo, usersaId, usersaInfo, type XfrmLimits } from './xfrm-sa-structs.js';
import type { XfrmSelectorSpec } from './xfrm-selector.js';
import { addressOctets, checkedUnsigned, invalidSpec, type XfrmFamily } from './xfrm-spec-checks.js';

/** RFC 3948: ESP in UDP, the only encapsulation IKEv2's NAT traversal uses (RFC 7296 2.23). */
export interface XfrmEncapsulationSpec {
  readonly type: 'espinudp';
  readonly sourcePort: number;
  readonly destinationPort: number;
}

export interface XfrmSaSpec {
  readonly family: XfrmFamily;
  /** Outer addresses, as text. */
  readonly source: string;
  readonly destination: string;
  /** RFC 4303 2.1: 256 and up (0 to 255 are reserved). */
  readonly spi: number;
  readonly protocol: 'esp';
  readonly mode: XfrmSaMode;
  readonly reqid: number;
  /** Packets; 0 turns anti-replay off (outbound SAs need none). */
  readonly replayWindow: number;
  /** Extended sequence numbers (RFC 4303 2.2.1), as negotiated (RFC 7296 3.3.2 ESN transform). */
  readonly esn: boolean;
  readonly encryption: XfrmEncryptionSpec;
  /** Required with a cipher, refused with an AEAD algorithm. */
  readonly integrity?: XfrmIntegritySpec;
  readonly encapsulation?: XfrmEncapsulationSpec;
  /** Byte and packet limits; absent ones are XFRM_INF. */
  readonly limits?: XfrmLimits;
  /** The SA's inner selector; left empty (any), as strongSwan leaves it for tunnel mode, when absent. */
  readonly selector?: XfrmSelectorSpec;
  /**
   * For an SA answering an XFRM_MSG_ACQUIRE: its seq. The kernel then finds the larval SA the
   * acquire left by that seq and deletes it as it adds this one (without a seq it looks for the
   * larval SA by reqid and addresses).
   */
  readonly acquireSeq?: number;
}

export interface XfrmAllocSpiSpec {
  readonly family: XfrmFamily;
  /** The SA the SPI is for is inbound: source is the peer, destination us. */
  readonly source: string;
  readonly destination: string;
  readonly reqid: number;
  readonly mode: XfrmSaMode;
  /** The range the kernel picks from, inclusive; RFC 4303 2.1 reserves 0 to 255. */
  readonly min: number;
  readonly max: number;
  /**
   * The seq of an XFRM_MSG_ACQUIRE: the kernel then gives the SPI to the larval SA that acquire
   * left, when it has this destination (the acquire's is the outbound SA's); else it makes a new one.
   */
  readonly acquireSeq?: number;
}

export interface XfrmSaId {
  readonly family: XfrmFamily;
  readonly destination: string;
  readonly spi: number;
  readonly protocol: 'esp';
  /** Sent as XFRMA_SRCADDR when given, as `ip xfrm` does; ESP SAs are found without it. */
  readonly source?: string;
}

/** The smallest SPI a peer may use (RFC 4303 2.1). */
const MIN_SPI = 256;
/** The largest replay window the kernel's bitmap holds: XFRMA_REPLAY_ESN_MAX octets, a bit per packet. */
const MAX_REPLAY_WINDOW = XFRMA_REPLAY_ESN_MAX * 8;

/**
 * XFRM_MSG_ALLOCSPI: the kernel picks a free SPI in [min, max] and installs a larval SA to hold
 * it; the answer is an XFRM_MSG_NEWSA (decodeAllocatedSpi). Install the real SA over it with
 * newSaRequest(…, { update: true }): XFRM_MSG_NEWSA would fail with EEXIST.
 */
export function allocSpiRequest(seq: number, spec: XfrmAllocSpiSpec): Buffer {
  const min = checkedUnsigned(spec.min, 32, 'SPI range minimum');
  const max = checkedUnsigned(spec.max, 32, 'SPI range maximum');
  if (min < MIN_SPI || min > max) invalidSpec(`SPI range ${min}..${max} must lie within ${MIN_SPI}..${0xffffffff} (RFC 4303 2.1)`);
  const info = usersaInfo({
    family: spec.family,
    source: spec.source,
    destination: spec.destination,
    spi: 0,
    protocol: IPPROTO_ESP,
    mode: spec.mode,
    reqid: checkedUnsigned(spec.reqid, 32, 'reqid'),
    replayWindow: 0,
    flags: 0,
    seq: checkedUnsigned(spec.acquireSeq ?? 0, 32, 'acquire seq'),
  });
  return encodeNetlinkMessage({ type: XfrmMessageType.ALLOCSPI, flags: NetlinkFlag.REQUEST, seq, body: userspiInfo(info, min, max) });
}

/**
 * XFRM_MSG_NEWSA (fails with EEXIST if the SA is there), or with `update` XFRM_MSG_UPDSA (replaces
 * it, ESRCH if it is not: the way to fill in a larval SA from allocSpiRequest). The kernel goes by
 * the message type; the CREATE/EXCL/REPLACE flags say the same for a reader of a capture.
 */
export function newSaRequest(seq: number, spec: XfrmSaSpec, options: { readonly update: boolean }): Buffer {
  if (spec.protocol !== 'esp') invalidSpec(`protocol '${String(spec.protocol)}' is not esp`);
  checkedUnsigned(spec.spi, 32, 'SPI');
  if (spec.spi < MIN_SPI) invalidSpec(`SPI ${spec.spi} is reserved (RFC 4303 2.1)`);
  const replayWindow = checkedUnsigned(spec.replayWindow, 32, 'replay window');
  if (replayWindow > MAX_REPLAY_WINDOW) invalidSpec(`replay window ${replayWindow} is beyond the kernel's ${MAX_REPLAY_WINDOW} packets`);
  // The u8 replay_window of xfrm_usersa_info holds a window of at most 32 packets (the legacy
  // bitmap, struct xfrm_replay_state); ESN, or a larger window, goes in XFRMA_REPLAY_ESN_VAL
  // and replay_window must then be 0, as strongSwan and iproute2 send it.
  const esnReplay = spec.esn || replayWindow > 32;
  const info = usersaInfo({
    family: spec.family,
    source: spec.source,
    destination: spec.destination,
    spi: spec.spi,
    protocol: IPPROTO_ESP,
    mode: spec.mode,
    reqid: checkedUnsigned(spec.reqid, 32, 'reqid'),
    replayWindow: esnReplay ? 0 : replayWindow,
    flags: spec.esn ? XfrmStateFlag.ESN : 0,
    limits: spec.limits ?? {},
    seq: checkedUnsigned(spec.acquireSeq ?? 0, 32, 'acquire seq'),
    ...(spec.selector === undefined ? {} : { selector: spec.selector }),
  });
  const attributes: NetlinkAttribute[] = [...algorithmAttributes(spec.encryption, spec.integrity)];
  if (spec.encapsulation !== undefined) attributes.push(encapsulationAttribute(spec.encapsulation));
  if (esnReplay) attributes.push({ type: XfrmAttributeType.REPLAY_ESN_VAL, value: replayStateEsn(replayWindow) });
  const flags = NetlinkFlag.REQUEST | NetlinkFlag.ACK | (options.update ? NetlinkFlag.REPLACE : NetlinkFlag.CREATE | NetlinkFlag.EXCL);
  return encodeNetlinkMessage({ type: options.update ? XfrmMessageType.UPDSA : XfrmMessageType.NEWSA, flags, seq, body: info, attributes });
}

/** XFRMA_ALG_AEAD alone, or XFRMA_ALG_CRYPT then XFRMA_ALG_AUTH_TRUNC. */
function algorithmAttributes(encryption: XfrmEncryptionSpec, integrity: XfrmIntegritySpec | undefined): NetlinkAttribute[] {
  checkEncryption(encryption);
  if ('icvBits' in encryption && isAeadAlgorithm(encryption.algorithm)) {
    if (integrity !== undefined) invalidSpec(`${encryption.algorithm} is AEAD: it carries its own integrity, no integrity algorithm goes with it`);
    return [{ type: XfrmAttributeType.ALG_AEAD, value: algoAead(encryption.algorithm, encryption.key, encryption.icvBits) }];
  }
  if (integrity === undefined) invalidSpec(`${encryption.algorithm} needs an integrity algorithm`);
  checkIntegrity(integrity);
  return [
    { type: XfrmAttributeType.ALG_CRYPT, value: algo(encryption.algorithm, encryption.key) },
    { type: XfrmAttributeType.ALG_AUTH_TRUNC, value: algoAuth(integrity.algorithm, integrity.key, integrity.truncationBits) },
  ];
}

function encapsulationAttribute(spec: XfrmEncapsulationSpec): NetlinkAttribute {
  if (spec.type !== 'espinudp') invalidSpec(`encapsulation '${String(spec.type)}' is not espinudp`);
  const sourcePort = checkedUnsigned(spec.sourcePort, 16, 'encapsulation source port');
  const destinationPort = checkedUnsigned(spec.destinationPort, 16, 'encapsulation destination port');
  return { type: XfrmAttributeType.ENCAP, value: encapTmpl(UDP_ENCAP_ESPINUDP, sourcePort, destinationPort) };
}

/** XFRM_MSG_DELSA for one SA; acked (errno 0) or ESRCH when there is none. */
export function deleteSaRequest(seq: number, id: XfrmSaId): Buffer {
  return saIdMessage(XfrmMessageType.DELSA, NetlinkFlag.REQUEST | NetlinkFlag.ACK, seq, id);
}

/** XFRM_MSG_GETSA for one SA: answered by its XFRM_MSG_NEWSA (decodeSaMessage) or ESRCH. */
export function getSaRequest(seq: number, id: XfrmSaId): Buffer {
  return saIdMessage(XfrmMessageType.GETSA, NetlinkFlag.REQUEST, seq, id);
}

function saIdMessage(type: number, flags: number, seq: number, id: XfrmSaId): Buffer {
  if (id.protocol !== 'esp') invalidSpec(`protocol '${String(id.protocol)}' is not esp`);
  const body = usersaId(id.family, id.destination, checkedUnsigned(id.spi, 32, 'SPI'), IPPROTO_ESP);
  const attributes = id.source === undefined ? [] : [{ type: XfrmAttributeType.SRCADDR, value: addressOctets(id.source, id.family, 'SA source') }];
  return encodeNetlinkMessage({ type, flags, seq, body, attributes });
}

/** XFRM_MSG_GETSA with NLM_F_DUMP: every SA. The kernel reads no struct from a dump request, so there is none. */
export function dumpSasRequest(seq: number): Buffer {
  return encodeNetlinkMessage({ type: XfrmMessageType.GETSA, flags: NetlinkFlag.REQUEST | NetlinkFlag.DUMP, seq, body: Buffer.alloc(0) });
}
