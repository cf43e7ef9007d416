/**
 * The structs of an SA's attributes (linux/xfrm.h), written and read: xfrm_algo (XFRMA_ALG_CRYPT),
 * xfrm_algo_auth (XFRMA_ALG_AUTH_TRUNC), xfrm_algo_aead (XFRMA_ALG_AEAD), xfrm_encap_tmpl
 * (XFRMA_ENCAP) and xfrm_replay_state_esn (XFRMA_REPLAY_ESN_VAL). Integers in host order, ports
 * in network order. Writers take values already checked; readers throw XfrmParseError.
 */
import { cString } from './netlink.js';
import { XFRM_ALGO, XFRM_ALGO_AEAD, XFRM_ALGO_AUTH, XFRM_ALGORITHM_NAME_CAPACITY, XFRM_ENCAP_TMPL, XFRM_REPLAY_STATE_ESN } from './xfrm-layout.js';
import { requireBytes } from './xfrm-parse-error.js';
import { invalidSpec } from './xfrm-spec-checks.js';

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
