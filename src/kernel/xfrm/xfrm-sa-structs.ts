/**
 * The SA structs of linux/xfrm.h, written from typed fields and read back: xfrm_usersa_info (with
 * its xfrm_id, xfrm_lifetime_cfg, xfrm_lifetime_cur and xfrm_stats), xfrm_usersa_id,
 * xfrm_userspi_info, the three xfrm_algo structs, xfrm_encap_tmpl and xfrm_replay_state_esn.
 * Writers take values already checked by the request builders; readers throw XfrmParseError.
 */
import {
  XFRM_ALGO,
  XFRM_ALGO_AEAD,
  XFRM_ALGO_AUTH,
  XFRM_ALGORITHM_NAME_CAPACITY,
  XFRM_ENCAP_TMPL,
  XFRM_ID,
  XFRM_LIFETIME_CFG,
  XFRM_LIFETIME_CUR,
  XFRM_REPLAY_STATE_ESN,
  XFRM_STATS,
  XFRM_USERSA_ID,
  XFRM_USERSA_INFO,
  XFRM_USERSPI_INFO,
} from './xfrm-layout.js';
import { XFRM_INF, XfrmModeNumber, XfrmStateFlag, type XfrmModeName } from './xfrm-constants.js';
import { cString } from './netlink.js';
import { XfrmParseError, requireBytes } from './xfrm-parse-error.js';
import { readAddress, readSelector, writeSelector, type XfrmSelector, type XfrmSelectorSpec } from './xfrm-selector.js';
import { addressOctets, familyCode, familyFromCode, invalidSpec, type XfrmFamily } from './xfrm-spec-checks.js';

/** Byte and packet limits of an SA (struct xfrm_lifetime_cfg); an absent one is XFRM_INF, no limit. */
export interface XfrmLimits {
  readonly softBytes?: number;
  readonly hardBytes?: number;
  readonly softPackets?: number;
  readonly hardPackets?: number;
}

/** What an SA has done so far (struct xfrm_lifetime_cur). */
export interface XfrmUsage {
  readonly bytes: number;
  readonly packets: number;
  /** When the SA was added, in seconds since the epoch. */
  readonly addTime: number;
  /** When it first carried a packet, in seconds since the epoch; 0 before that. */
  readonly useTime: number;
}

/** The fields of struct xfrm_usersa_info the builders set; the rest is zero. */
export interface UsersaInfoFields {
  readonly family: XfrmFamily;
  readonly source: string;
  readonly destination: string;
  /** 0 in ALLOCSPI, where the kernel picks it. */
  readonly spi: number;
  readonly protocol: number;
  readonly mode: XfrmModeName;
  readonly reqid: number;
  /** The u8 replay_window; 0 when XFRMA_REPLAY_ESN_VAL carries the window. */
  readonly replayWindow: number;
  readonly flags: number;
  /** An acquire's seq, to tie ALLOCSPI to the larval SA it created (xfrm_user_acquire.seq). */
  readonly seq?: number;
  /** {} is no limits (XFRM_INF); absent leaves the struct zero, as for ALLOCSPI, where the kernel does not read it. */
  readonly limits?: XfrmLimits;
  readonly selector?: XfrmSelectorSpec;
}

/** struct xfrm_usersa_info as the kernel reports it (GETSA, ALLOCSPI, dumps, EXPIRE). */
export interface XfrmSaState {
  readonly family: XfrmFamily;
  readonly source: string;
  readonly destination: string;
  readonly spi: number;
  /** IPPROTO_ESP (50), IPPROTO_AH (51) or IPPROTO_COMP (108). */
  readonly protocol: number;
  readonly mode: XfrmModeName;
  readonly reqid: number;
  readonly replayWindow: number;
  readonly flags: number;
  readonly esn: boolean;
  readonly seq: number;
  readonly selector: XfrmSelector;
  readonly limits: XfrmLimits;
  readonly usage: XfrmUsage;
  readonly stats: { readonly replayWindow: number; readonly replay: number; readonly integrityFailed: number };
}

export function usersaInfo(fields: UsersaInfoFields): Buffer {
  const L = XFRM_USERSA_INFO;
  const info = Buffer.alloc(L.sizeof);
  if (fields.selector !== undefined) writeSelector(info, L.sel, fields.selector);
  writeId(info, L.id, fields.family, fields.destination, fields.spi, fields.protocol);
  addressOctets(fields.source, fields.family, 'SA source').copy(info, L.saddr);
  if (fields.limits !== undefined) writeLifetimeConfig(info, L.lft, fields.limits);
  info.writeUInt32LE(fields.seq ?? 0, L.seq);
  info.writeUInt32LE(fields.reqid, L.reqid);
  info.writeUInt16LE(familyCode(fields.family), L.family);
  info.writeUInt8(XfrmModeNumber[fields.mode], L.mode);
  info.writeUInt8(fields.replayWindow, L.replay_window);
  info.writeUInt8(fields.flags, L.flags);
  return info;
}

/** struct xfrm_id: destination, SPI (network order) and protocol: what identifies an SA. */
function writeId(target: Buffer, at: number, family: XfrmFamily, destination: string, spi: number, protocol: number): void {
  addressOctets(destination, family, 'SA destination').copy(target, at + XFRM_ID.daddr);
  target.writeUInt32BE(spi, at + XFRM_ID.spi);
  target.writeUInt8(protocol, at + XFRM_ID.proto);
}

/** Byte and packet limits; the time limits stay 0 (none): IKE rekeys by its own timers. */
export function writeLifetimeConfig(target: Buffer, at: number, limits: XfrmLimits): void {
  const L = XFRM_LIFETIME_CFG;
  const limit = (value: number | undefined, what: string): bigint => {
    if (value === undefined) return XFRM_INF;
    if (!Number.isSafeInteger(value) || value < 1) invalidSpec(`${what} must be a positive integer, got ${value}`);
    return BigInt(value);
  };
  target.writeBigUInt64LE(limit(limits.softBytes, 'soft byte limit'), at + L.soft_byte_limit);
  target.writeBigUInt64LE(limit(limits.hardBytes, 'hard byte limit'), at + L.hard_byte_limit);
  target.writeBigUInt64LE(limit(limits.softPackets, 'soft packet limit'), at + L.soft_packet_limit);
  target.writeBigUInt64LE(limit(limits.hardPackets, 'hard packet limit'), at + L.hard_packet_limit);
}

export function usersaId(family: XfrmFamily, destination: string, spi: number, protocol: number): Buffer {
  const L = XFRM_USERSA_ID;
  const id = Buffer.alloc(L.sizeof);
  addressOctets(destination, family, 'SA destination').copy(id, L.daddr);
  id.writeUInt32BE(spi, L.spi);
  id.writeUInt16LE(familyCode(family), L.family);
  id.writeUInt8(protocol, L.proto);
  return id;
}

/** struct xfrm_userspi_info: the larval SA's xfrm_usersa_info and the range to pick its SPI from (host order). */
export function userspiInfo(info: Buffer, min: number, max: number): Buffer {
  const L = XFRM_USERSPI_INFO;
  const spi = Buffer.alloc(L.sizeof);
  info.copy(spi, L.info);
  spi.writeUInt32LE(min, L.min);
  spi.writeUInt32LE(max, L.max);
  return spi;
}

/** struct xfrm_algo: name, key length in bits, key. */
export function algo(name: string, key: Buffer): Buffer {
  const value = Buffer.alloc(XFRM_ALGO.sizeof + key.length);
  writeAlgorithmName(value, name);
  value.writeUInt32LE(key.length * 8, XFRM_ALGO.alg_key_len);
  key.copy(value, XFRM_ALGO.alg_key);
  return value;
}

/** struct xfrm_algo_auth: name, key length in bits, ICV truncation in bits, key. */
export function algoAuth(name: string, key: Buffer, truncationBits: number): Buffer {
  const value = Buffer.alloc(XFRM_ALGO_AUTH.sizeof + key.length);
  writeAlgorithmName(value, name);
  value.writeUInt32LE(key.length * 8, XFRM_ALGO_AUTH.alg_key_len);
  value.writeUInt32LE(truncationBits, XFRM_ALGO_AUTH.alg_trunc_len);
  key.copy(value, XFRM_ALGO_AUTH.alg_key);
  return value;
}

/** struct xfrm_algo_aead: name, key length in bits (salt included), ICV length in bits, key. */
export function algoAead(name: string, key: Buffer, icvBits: number): Buffer {
  const value = Buffer.alloc(XFRM_ALGO_AEAD.sizeof + key.length);
  writeAlgorithmName(value, name);
  value.writeUInt32LE(key.length * 8, XFRM_ALGO_AEAD.alg_key_len);
  value.writeUInt32LE(icvBits, XFRM_ALGO_AEAD.alg_icv_len);
  key.copy(value, XFRM_ALGO_AEAD.alg_key);
  return value;
}

function writeAlgorithmName(target: Buffer, name: string): void {
  if (Buffer.byteLength(name) >= XFRM_ALGORITHM_NAME_CAPACITY) invalidSpec(`algorithm name '${name}' is longer than ${XFRM_ALGORITHM_NAME_CAPACITY - 1} octets`);
  target.write(name, 0, 'utf8');
}

/**
 * struct xfrm_encap_tmpl: encap_type in host order, the ports in network order, and encap_oa
 * (the original address for NAT-T checksum fix-ups of transport mode, RFC 3948 3.1.2; zero
 * leaves them to the kernel).
 */
export function encapTmpl(type: number, sourcePort: number, destinationPort: number): Buffer {
  const L = XFRM_ENCAP_TMPL;
  const value = Buffer.alloc(L.sizeof);
  value.writeUInt16LE(type, L.encap_type);
  value.writeUInt16BE(sourcePort, L.encap_sport);
  value.writeUInt16BE(destinationPort, L.encap_dport);
  return value;
}

/**
 * struct xfrm_replay_state_esn for a new SA: the window and bmp_len, the window's size in u32
 * words. The bitmap itself is left out, as iproute2 sends it: the kernel accepts the bare struct
 * and starts from an empty bitmap.
 */
export function replayStateEsn(replayWindow: number): Buffer {
  const L = XFRM_REPLAY_STATE_ESN;
  const value = Buffer.alloc(L.sizeof);
  value.writeUInt32LE(Math.ceil(replayWindow / 32), L.bmp_len);
  value.writeUInt32LE(replayWindow, L.replay_window);
  return value;
}

export function readUsersaInfo(source: Buffer, at: number, base: number, what = 'xfrm_usersa_info'): XfrmSaState {
  const L = XFRM_USERSA_INFO;
  requireBytes(source, at, L.sizeof, what, base);
  const familyNumber = source.readUInt16LE(at + L.family);
  const family = familyFromCode(familyNumber);
  if (family === undefined) throw new XfrmParseError({ code: 'bad-value', offset: base + at + L.family, what, reason: `family ${familyNumber} is neither AF_INET nor AF_INET6` });
  const flags = source.readUInt8(at + L.flags);
  return {
    family,
    destination: readAddress(source, at + L.id + XFRM_ID.daddr, family),
    spi: source.readUInt32BE(at + L.id + XFRM_ID.spi),
    protocol: source.readUInt8(at + L.id + XFRM_ID.proto),
    source: readAddress(source, at + L.saddr, family),
    mode: readMode(source, at + L.mode, base, what),
    reqid: source.readUInt32LE(at + L.reqid),
    replayWindow: source.readUInt8(at + L.replay_window),
    flags,
    esn: (flags & XfrmStateFlag.ESN) !== 0,
    seq: source.readUInt32LE(at + L.seq),
    selector: readSelector(source, at + L.sel, base, family),
    limits: readLimits(source, at + L.lft),
    usage: readUsage(source, at + L.curlft),
    stats: {
      replayWindow: source.readUInt32LE(at + L.stats + XFRM_STATS.replay_window),
      replay: source.readUInt32LE(at + L.stats + XFRM_STATS.replay),
      integrityFailed: source.readUInt32LE(at + L.stats + XFRM_STATS.integrity_failed),
    },
  };
}

const MODE_NAMES = Object.keys(XfrmModeNumber) as XfrmModeName[];

/** An XFRM_MODE_* octet as its name. */
export function readMode(source: Buffer, at: number, base: number, what: string): XfrmModeName {
  const number = source.readUInt8(at);
  const name = MODE_NAMES.find((mode) => XfrmModeNumber[mode] === number);
  if (name === undefined) throw new XfrmParseError({ code: 'bad-value', offset: base + at, what, reason: `mode ${number} is not an XFRM_MODE_*` });
  return name;
}

function readLimits(source: Buffer, at: number): XfrmLimits {
  const L = XFRM_LIFETIME_CFG;
  const limit = (offset: number): number | undefined => {
    const value = source.readBigUInt64LE(at + offset);
    return value === XFRM_INF ? undefined : Number(value);
  };
  const entries = {
    softBytes: limit(L.soft_byte_limit),
    hardBytes: limit(L.hard_byte_limit),
    softPackets: limit(L.soft_packet_limit),
    hardPackets: limit(L.hard_packet_limit),
  };
  return Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined)) as XfrmLimits;
}

/** struct xfrm_lifetime_cur; u64 counters beyond 2^53 lose precision as numbers. Bounds are the caller's. */
export function readUsage(source: Buffer, at: number): XfrmUsage {
  const L = XFRM_LIFETIME_CUR;
  const u64 = (offset: number): number => Number(source.readBigUInt64LE(at + offset));
  return { bytes: u64(L.bytes), packets: u64(L.packets), addTime: u64(L.add_time), useTime: u64(L.use_time) };
}

/** A decoded XFRMA_ALG_CRYPT / ALG_AUTH_TRUNC / ALG_AEAD: the name, the key, and the ICV length of the last two. */
export interface XfrmAlgorithmState {
  readonly algorithm: string;
  readonly key: Buffer;
  /** alg_trunc_len of ALG_AUTH_TRUNC, alg_icv_len of ALG_AEAD. */
  readonly icvBits?: number;
}

/** struct xfrm_algo (fixedLength 68) or xfrm_algo_auth / xfrm_algo_aead (72, the u32 at 68 being the ICV length). */
export function readAlgorithm(value: Buffer, base: number, what: string, fixedLength: typeof XFRM_ALGO.sizeof | typeof XFRM_ALGO_AUTH.sizeof): XfrmAlgorithmState {
  requireBytes(value, 0, fixedLength, what, base);
  const keyBits = value.readUInt32LE(XFRM_ALGO.alg_key_len);
  const keyOctets = Math.ceil(keyBits / 8);
  requireBytes(value, fixedLength, keyOctets, `${what} key`, base);
  const state = { algorithm: cString(value.subarray(0, XFRM_ALGORITHM_NAME_CAPACITY)), key: Buffer.from(value.subarray(fixedLength, fixedLength + keyOctets)) };
  return fixedLength === XFRM_ALGO.sizeof ? state : { ...state, icvBits: value.readUInt32LE(XFRM_ALGO_AUTH.alg_trunc_len) };
}

export interface XfrmEncapsulationState {
  readonly type: number;
  readonly sourcePort: number;
  readonly destinationPort: number;
}

export function readEncapTmpl(value: Buffer, base: number): XfrmEncapsulationState {
  const L = XFRM_ENCAP_TMPL;
  requireBytes(value, 0, L.sizeof, 'xfrm_encap_tmpl', base);
  return { type: value.readUInt16LE(L.encap_type), sourcePort: value.readUInt16BE(L.encap_sport), destinationPort: value.readUInt16BE(L.encap_dport) };
}

export interface XfrmReplayEsnState {
  readonly replayWindow: number;
  readonly outboundSequence: bigint;
  readonly inboundSequence: bigint;
}

/** struct xfrm_replay_state_esn: 64-bit sequence numbers from their low and high halves (RFC 4303 2.2.1). */
export function readReplayStateEsn(value: Buffer, base: number): XfrmReplayEsnState {
  const L = XFRM_REPLAY_STATE_ESN;
  requireBytes(value, 0, L.sizeof, 'xfrm_replay_state_esn', base);
  const u64 = (high: number, low: number): bigint => (BigInt(value.readUInt32LE(high)) << 32n) | BigInt(value.readUInt32LE(low));
  return { replayWindow: value.readUInt32LE(L.replay_window), outboundSequence: u64(L.oseq_hi, L.oseq), inboundSequence: u64(L.seq_hi, L.seq) };
}
