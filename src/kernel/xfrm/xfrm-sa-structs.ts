/**
 * The SA structs of linux/xfrm.h, written from typed fields and read back: xfrm_usersa_info (with
 * its xfrm_id, xfrm_lifetime_cfg, xfrm_lifetime_cur and xfrm_stats), xfrm_usersa_id and
 * xfrm_userspi_info (the structs of an SA's attributes are in xfrm-sa-attributes.ts). Writers
 * take values already checked by the request builders; readers throw XfrmParseError.
 */
import { XFRM_ID, XFRM_LIFETIME_CFG, XFRM_LIFETIME_CUR, XFRM_STATS, XFRM_USERSA_ID, XFRM_USERSA_INFO, XFRM_USERSPI_INFO } from './xfrm-layout.js';
import { XFRM_INF, XfrmModeNumber, XfrmStateFlag, type XfrmModeName } from './xfrm-constants.js';
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

/** What an SA or a policy has done so far (struct xfrm_lifetime_cur). */
export interface XfrmUsage {
  readonly bytes: number;
  readonly packets: number;
  /** When the SA or policy was added, in seconds since the epoch. */
  readonly addTime: number;
  /**
   * Seconds since the epoch, 0 before any use. The kernel sets an SA's once, at its first packet
   * (xfrm_state_check_expire), but a policy's at every use (xfrm_lookup for an outbound flow it
   * resolved, __xfrm_policy_check for each inbound or forwarded packet): an SA's first use, a
   * policy's last.
   */
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
