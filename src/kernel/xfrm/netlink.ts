/**
 * Netlink framing (linux/netlink.h): the 16-octet message header, attributes, the error/ack
 * message and the end-of-dump marker. Pure: bytes in, bytes out; the socket is elsewhere.
 *
 * Byte order: netlink headers and the XFRM structs are in the host's native order. ikekm runs on
 * little-endian 64-bit Linux (x86_64, aarch64; see `xfrmHostUnsupportedReason`), so every
 * integer here is written and read little-endian. Only the fields the protocols define in
 * network order (addresses, SPIs and ports inside the XFRM structs) are big-endian, and those
 * are handled by the struct codecs, not here.
 */
import { err, type Result } from '../../result.js';
import { XfrmParseError, catchXfrmParseError, requireBytes } from './xfrm-parse-error.js';

/** NLMSG_ALIGNTO and NLA_ALIGNTO: messages and attributes start on 4-octet boundaries. */
export const NETLINK_ALIGNMENT = 4;
/** sizeof(struct nlmsghdr): nlmsg_len u32, nlmsg_type u16, nlmsg_flags u16, nlmsg_seq u32, nlmsg_pid u32. */
export const NETLINK_HEADER_LENGTH = 16;
/** sizeof(struct nlattr): nla_len u16, nla_type u16. */
export const NETLINK_ATTRIBUTE_HEADER_LENGTH = 4;
/** sizeof(struct nlmsgerr) without the echoed request: the int error before the request's header. */
const NLMSGERR_ERROR_LENGTH = 4;

/** Control message types below NLMSG_MIN_TYPE (0x10), shared by every netlink family. */
export const NetlinkMessageType = {
  NOOP: 1,
  /** struct nlmsgerr: a negative errno, or 0 for an acknowledgement, and the request's header. */
  ERROR: 2,
  /** The end of a multipart (dump) answer. */
  DONE: 3,
  OVERRUN: 4,
} as const;

/** nlmsg_flags. Several share a bit: their meaning depends on the request kind (GET, NEW, ack). */
export const NetlinkFlag = {
  REQUEST: 0x1,
  /** Part of a multipart answer, ended by NLMSG_DONE. */
  MULTI: 0x2,
  /** Ask for an NLMSG_ERROR with error 0 when the request succeeds. */
  ACK: 0x4,
  ECHO: 0x8,
  /** The dump was interrupted by a change; its contents may be inconsistent. */
  DUMP_INTR: 0x10,
  /** GET requests: NLM_F_ROOT | NLM_F_MATCH, every object. */
  DUMP: 0x300,
  /** NEW requests: replace an existing object. */
  REPLACE: 0x100,
  /** NEW requests: fail if the object exists. */
  EXCL: 0x200,
  /** NEW requests: create the object if it does not exist. */
  CREATE: 0x400,
  /** Acks: the echoed request is cut to its header. */
  CAPPED: 0x100,
  /** Acks: extended-ack attributes follow the echoed request. */
  ACK_TLVS: 0x200,
} as const;

/** The socket option level of netlink sockets (SOL_NETLINK, from the C library's sys/socket.h). */
export const SOL_NETLINK = 270;

/** Options at level SOL_NETLINK (linux/netlink.h), each an int. */
export const NetlinkSocketOption = {
  /** Join a multicast group by number (XFRMNLGRP_ACQUIRE, XFRMNLGRP_EXPIRE). */
  ADD_MEMBERSHIP: 1,
  /** 1: errors echo only the request's header, not the whole request (with its keys). */
  CAP_ACK: 10,
  /** 1: errors carry the kernel's text (NLMSGERR_ATTR_MSG); without it only the errno comes back. */
  EXT_ACK: 11,
} as const;

/** enum nlmsgerr_attrs: the extended-ack attribute carrying the kernel's text for an error. */
const NLMSGERR_ATTR_MSG = 1;
/** nla_type's top bits are NLA_F_NESTED and NLA_F_NET_BYTEORDER; NLA_TYPE_MASK keeps the type. */
const NLA_TYPE_MASK = 0x3fff;

/** NLMSG_ALIGN / NLA_ALIGN, in arithmetic rather than bit masks so a hostile u32 cannot wrap. */
export function netlinkAlign(length: number): number {
  return Math.ceil(length / NETLINK_ALIGNMENT) * NETLINK_ALIGNMENT;
}

export interface NetlinkAttribute {
  readonly type: number;
  readonly value: Buffer;
}

export interface DecodedNetlinkAttribute extends NetlinkAttribute {
  /** Absolute offset of the attribute's header (see XfrmParseError.offset). */
  readonly offset: number;
}

export interface NetlinkMessageInit {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  /** The sender's port id; 0 lets the kernel fill in the socket's own. */
  readonly pid?: number;
  /** The family's fixed header (for XFRM one struct of linux/xfrm.h). */
  readonly body: Buffer;
  readonly attributes?: readonly NetlinkAttribute[];
}

export interface NetlinkMessage {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid: number;
  /** Everything after the header, up to nlmsg_len: the body and its attributes. */
  readonly payload: Buffer;
  /** Absolute offset of the message's header in the decoded buffer. */
  readonly offset: number;
}

/** One message: header, body padded to 4 octets, then each attribute padded to 4 octets. */
export function encodeNetlinkMessage(init: NetlinkMessageInit): Buffer {
  const attributes = encodeAttributes(init.attributes ?? []);
  const bodyLength = netlinkAlign(init.body.length);
  const message = Buffer.alloc(NETLINK_HEADER_LENGTH + bodyLength + attributes.length);
  message.writeUInt32LE(message.length, 0);
  message.writeUInt16LE(init.type, 4);
  message.writeUInt16LE(init.flags, 6);
  message.writeUInt32LE(init.seq, 8);
  message.writeUInt32LE(init.pid ?? 0, 12);
  init.body.copy(message, NETLINK_HEADER_LENGTH);
  attributes.copy(message, NETLINK_HEADER_LENGTH + bodyLength);
  return message;
}

/** Attributes back to back; nla_len counts header and value, not the padding after it. */
export function encodeAttributes(attributes: readonly NetlinkAttribute[]): Buffer {
  const parts = attributes.map(({ type, value }) => {
    const length = NETLINK_ATTRIBUTE_HEADER_LENGTH + value.length;
    if (length > 0xffff) throw new RangeError(`a netlink attribute holds at most ${0xffff - NETLINK_ATTRIBUTE_HEADER_LENGTH} octets, got ${value.length}`);
    const part = Buffer.alloc(netlinkAlign(length));
    part.writeUInt16LE(length, 0);
    part.writeUInt16LE(type, 2);
    value.copy(part, NETLINK_ATTRIBUTE_HEADER_LENGTH);
    return part;
  });
  return Buffer.concat(parts);
}

/**
 * Every message in one datagram (a read from a netlink socket may hold several: a dump's parts, or
 * a reply and its ack). A message whose nlmsg_len is below the header or past the end of the
 * buffer, or trailing octets too few for a header, are an error at their offset.
 */
export function decodeNetlinkMessages(buffer: Buffer): Result<NetlinkMessage[], XfrmParseError> {
  return catchXfrmParseError(() => {
    const messages: NetlinkMessage[] = [];
    let at = 0;
    while (at < buffer.length) {
      requireBytes(buffer, at, NETLINK_HEADER_LENGTH, 'nlmsghdr', 0);
      const length = buffer.readUInt32LE(at);
      if (length < NETLINK_HEADER_LENGTH || length > buffer.length - at) {
        throw new XfrmParseError({
          code: 'bad-message-length',
          offset: at,
          what: 'nlmsghdr',
          reason: `nlmsg_len ${length} is outside ${NETLINK_HEADER_LENGTH}..${buffer.length - at}`,
        });
      }
      messages.push({
        type: buffer.readUInt16LE(at + 4),
        flags: buffer.readUInt16LE(at + 6),
        seq: buffer.readUInt32LE(at + 8),
        pid: buffer.readUInt32LE(at + 12),
        payload: buffer.subarray(at + NETLINK_HEADER_LENGTH, at + length),
        offset: at,
      });
      // The padding after the last message may be missing from a short read: stop at the end.
      at = Math.min(buffer.length, at + netlinkAlign(length));
    }
    return messages;
  });
}

/**
 * The attributes in `buffer` (the part of a payload after its fixed body); `base` is the absolute
 * offset of `buffer[0]`. NLA_F_NESTED and NLA_F_NET_BYTEORDER are masked off the type.
 */
export function decodeAttributes(buffer: Buffer, base = 0): Result<DecodedNetlinkAttribute[], XfrmParseError> {
  return catchXfrmParseError(() => readAttributes(buffer, base));
}

/** decodeAttributes for the struct decoders: throws XfrmParseError. */
export function readAttributes(buffer: Buffer, base: number): DecodedNetlinkAttribute[] {
  const attributes: DecodedNetlinkAttribute[] = [];
  let at = 0;
  while (at < buffer.length) {
    requireBytes(buffer, at, NETLINK_ATTRIBUTE_HEADER_LENGTH, 'nlattr', base);
    const length = buffer.readUInt16LE(at);
    if (length < NETLINK_ATTRIBUTE_HEADER_LENGTH || length > buffer.length - at) {
      throw new XfrmParseError({
        code: 'bad-attribute-length',
        offset: base + at,
        what: 'nlattr',
        reason: `nla_len ${length} is outside ${NETLINK_ATTRIBUTE_HEADER_LENGTH}..${buffer.length - at}`,
      });
    }
    attributes.push({
      type: buffer.readUInt16LE(at + 2) & NLA_TYPE_MASK,
      value: buffer.subarray(at + NETLINK_ATTRIBUTE_HEADER_LENGTH, at + length),
      offset: base + at,
    });
    at = Math.min(buffer.length, at + netlinkAlign(length));
  }
  return attributes;
}

/** An NLMSG_ERROR message: the kernel's answer to a request, an error or (errno 0) an ack. */
export interface NetlinkError {
  /** Positive errno (EEXIST is 17); 0 for an acknowledgement. */
  readonly errno: number;
  /** The nlmsg_seq of the request this answers (the backend matches requests by it). */
  readonly requestSeq: number;
  readonly requestType: number;
  /** The kernel's own words for the error (extended ack, NLMSGERR_ATTR_MSG), when it sent them. */
  readonly kernelMessage?: string;
}

/**
 * struct nlmsgerr { int error; struct nlmsghdr msg; } and, with NLM_F_ACK_TLVS, attributes after
 * the echoed request: the whole request, or only its header when NLM_F_CAPPED is set (always for
 * an ack).
 */
export function decodeNetlinkError(message: NetlinkMessage): Result<NetlinkError, XfrmParseError> {
  const base = message.offset + NETLINK_HEADER_LENGTH;
  if (message.type !== NetlinkMessageType.ERROR) {
    return err(new XfrmParseError({ code: 'unexpected-message', offset: message.offset, what: 'nlmsgerr', reason: `message type ${message.type} is not NLMSG_ERROR` }));
  }
  return catchXfrmParseError(() => {
    const payload = message.payload;
    requireBytes(payload, 0, NLMSGERR_ERROR_LENGTH + NETLINK_HEADER_LENGTH, 'nlmsgerr', base);
    const error = payload.readInt32LE(0);
    if (error > 0) throw new XfrmParseError({ code: 'bad-value', offset: base, what: 'nlmsgerr', reason: `error ${error} is positive (an errno is sent negated)` });
    const request = NLMSGERR_ERROR_LENGTH;
    const result: { errno: number; requestSeq: number; requestType: number; kernelMessage?: string } = {
      errno: Math.abs(error),
      requestSeq: payload.readUInt32LE(request + 8),
      requestType: payload.readUInt16LE(request + 4),
    };
    if ((message.flags & NetlinkFlag.ACK_TLVS) !== 0) {
      const capped = (message.flags & NetlinkFlag.CAPPED) !== 0;
      const echoed = capped ? NETLINK_HEADER_LENGTH : Math.max(NETLINK_HEADER_LENGTH, netlinkAlign(payload.readUInt32LE(request)));
      requireBytes(payload, request, echoed, 'nlmsgerr echoed request', base);
      for (const attribute of readAttributes(payload.subarray(request + echoed), base + request + echoed)) {
        if (attribute.type === NLMSGERR_ATTR_MSG) result.kernelMessage = cString(attribute.value);
      }
    }
    return result;
  });
}

/** A NUL-terminated string in a fixed or attribute buffer (the whole buffer when there is no NUL). */
export function cString(value: Buffer): string {
  const end = value.indexOf(0);
  return value.toString('utf8', 0, end < 0 ? value.length : end);
}
