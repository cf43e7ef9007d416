/**
 * Sizes and field offsets of the linux/xfrm.h structs, as the C compiler lays them out on
 * x86_64 and aarch64 (u64 fields 8-aligned, so xfrm_usersa_info is 224 octets; on 32-bit x86 it
 * would be 220, see xfrm-host.ts). Field names are the C names, so test/kernel/xfrm can compare
 * every number with what `sizeof` and `offsetof` print for the installed header.
 *
 * Padding is where the next offset jumps: xfrm_selector has 3 octets after proto, for instance,
 * and xfrm_usersa_info 7 after flags. The codecs write zeros there (the buffers start zeroed).
 */

/** xfrm_address_t: a union of an IPv4 address (first 4 octets) and an IPv6 one. */
export const XFRM_ADDRESS = { sizeof: 16 } as const;

export const XFRM_SELECTOR = {
  sizeof: 56,
  daddr: 0,
  saddr: 16,
  dport: 32,
  dport_mask: 34,
  sport: 36,
  sport_mask: 38,
  family: 40,
  prefixlen_d: 42,
  prefixlen_s: 43,
  proto: 44,
  ifindex: 48,
  user: 52,
} as const;

export const XFRM_ID = { sizeof: 24, daddr: 0, spi: 16, proto: 20 } as const;

export const XFRM_LIFETIME_CFG = {
  sizeof: 64,
  soft_byte_limit: 0,
  hard_byte_limit: 8,
  soft_packet_limit: 16,
  hard_packet_limit: 24,
  soft_add_expires_seconds: 32,
  hard_add_expires_seconds: 40,
  soft_use_expires_seconds: 48,
  hard_use_expires_seconds: 56,
} as const;

export const XFRM_LIFETIME_CUR = { sizeof: 32, bytes: 0, packets: 8, add_time: 16, use_time: 24 } as const;

export const XFRM_STATS = { sizeof: 12, replay_window: 0, replay: 4, integrity_failed: 8 } as const;

export const XFRM_USERSA_INFO = {
  sizeof: 224,
  sel: 0,
  id: 56,
  saddr: 80,
  lft: 96,
  curlft: 160,
  stats: 192,
  seq: 204,
  reqid: 208,
  family: 212,
  mode: 214,
  replay_window: 215,
  flags: 216,
} as const;

export const XFRM_USERSA_ID = { sizeof: 24, daddr: 0, spi: 16, family: 20, proto: 22 } as const;

export const XFRM_USERSPI_INFO = { sizeof: 232, info: 0, min: 224, max: 228 } as const;

export const XFRM_USERPOLICY_INFO = {
  sizeof: 168,
  sel: 0,
  lft: 56,
  curlft: 120,
  priority: 152,
  index: 156,
  dir: 160,
  action: 161,
  flags: 162,
  share: 163,
} as const;

export const XFRM_USERPOLICY_ID = { sizeof: 64, sel: 0, index: 56, dir: 60 } as const;

export const XFRM_USER_TMPL = {
  sizeof: 64,
  id: 0,
  family: 24,
  saddr: 28,
  reqid: 44,
  mode: 48,
  share: 49,
  optional: 50,
  aalgos: 52,
  ealgos: 56,
  calgos: 60,
} as const;

export const XFRM_USER_EXPIRE = { sizeof: 232, state: 0, hard: 224 } as const;

export const XFRM_USER_ACQUIRE = {
  sizeof: 280,
  id: 0,
  saddr: 24,
  sel: 40,
  policy: 96,
  aalgos: 264,
  ealgos: 268,
  calgos: 272,
  seq: 276,
} as const;

export const XFRM_USER_POLEXPIRE = { sizeof: 176, pol: 0, hard: 168 } as const;

/** alg_name is char[64]; the key follows the fixed part (a flexible array member). */
export const XFRM_ALGO = { sizeof: 68, alg_name: 0, alg_key_len: 64, alg_key: 68 } as const;
export const XFRM_ALGO_AUTH = { sizeof: 72, alg_name: 0, alg_key_len: 64, alg_trunc_len: 68, alg_key: 72 } as const;
export const XFRM_ALGO_AEAD = { sizeof: 72, alg_name: 0, alg_key_len: 64, alg_icv_len: 68, alg_key: 72 } as const;

export const XFRM_ENCAP_TMPL = { sizeof: 24, encap_type: 0, encap_sport: 2, encap_dport: 4, encap_oa: 8 } as const;

/** The bitmap (bmp, u32[bmp_len]) follows the fixed part. */
export const XFRM_REPLAY_STATE_ESN = {
  sizeof: 24,
  bmp_len: 0,
  oseq: 4,
  seq: 8,
  oseq_hi: 12,
  seq_hi: 16,
  replay_window: 20,
  bmp: 24,
} as const;

export const XFRM_MARK = { sizeof: 8, v: 0, m: 4 } as const;

/** The capacity of alg_name (char[64]) including its terminating NUL. */
export const XFRM_ALGORITHM_NAME_CAPACITY = 64;
