/**
 * The numbers of linux/xfrm.h (and the few of linux/in.h, linux/in6.h and linux/udp.h that go with
 * them) that ikekm uses. Every value is checked against the header by test/kernel/xfrm.
 */

/** The netlink protocol number to open the socket with: socket(AF_NETLINK, SOCK_RAW, NETLINK_XFRM). */
export const NETLINK_XFRM = 6;

/** XFRM_MSG_*: nlmsg_type of XFRM requests and notifications. */
export const XfrmMessageType = {
  NEWSA: 16,
  DELSA: 17,
  GETSA: 18,
  NEWPOLICY: 19,
  DELPOLICY: 20,
  GETPOLICY: 21,
  ALLOCSPI: 22,
  ACQUIRE: 23,
  EXPIRE: 24,
  UPDPOLICY: 25,
  UPDSA: 26,
  POLEXPIRE: 27,
  FLUSHSA: 28,
  FLUSHPOLICY: 29,
} as const;

/** XFRMA_*: attribute types after the fixed struct of an XFRM message. */
export const XfrmAttributeType = {
  /** struct xfrm_algo_auth in the kernel's own default truncation; ikekm sends ALG_AUTH_TRUNC. */
  ALG_AUTH: 1,
  /** struct xfrm_algo: the cipher of a non-AEAD SA. */
  ALG_CRYPT: 2,
  /** struct xfrm_encap_tmpl: UDP encapsulation (RFC 3948). */
  ENCAP: 4,
  /** struct xfrm_user_tmpl[]: a policy's templates. */
  TMPL: 5,
  /** struct xfrm_lifetime_cur: an SA's usage, in async events. */
  LTIME_VAL: 9,
  /** struct xfrm_replay_state: the 32-packet replay state, in replies. */
  REPLAY_VAL: 10,
  /** xfrm_address_t: an SA's source address, in GETSA / DELSA requests. */
  SRCADDR: 13,
  /** struct xfrm_userpolicy_type: main or sub policy, in replies. */
  POLICY_TYPE: 16,
  /** struct xfrm_algo_aead: the combined-mode algorithm of an AEAD SA. */
  ALG_AEAD: 18,
  /** struct xfrm_algo_auth with an explicit ICV truncation. */
  ALG_AUTH_TRUNC: 20,
  /** struct xfrm_mark. */
  MARK: 21,
  /** struct xfrm_replay_state_esn: 64-bit sequence numbers, or windows beyond 32 packets. */
  REPLAY_ESN_VAL: 23,
  /** u32: XFRM_SA_XFLAG_*. */
  SA_EXTRA_FLAGS: 24,
} as const;

/** struct xfrm_usersa_info.flags (XFRM_STATE_*). */
export const XfrmStateFlag = {
  NOECN: 1,
  DECAP_DSCP: 2,
  NOPMTUDISC: 4,
  WILDRECV: 8,
  ICMP: 16,
  AF_UNSPEC: 32,
  ALIGN4: 64,
  /** Extended (64-bit) sequence numbers, RFC 4303 2.2.1; needs XFRMA_REPLAY_ESN_VAL. */
  ESN: 128,
} as const;

/** XFRM_MODE_*: struct xfrm_usersa_info.mode and struct xfrm_user_tmpl.mode. */
export const XfrmModeNumber = {
  transport: 0,
  tunnel: 1,
  'route-optimization': 2,
  'in-trigger': 3,
  beet: 4,
} as const;
export type XfrmModeName = keyof typeof XfrmModeNumber;
/** The two modes IKEv2 negotiates (RFC 7296 1.3.1, USE_TRANSPORT_MODE). */
export type XfrmSaMode = Extract<XfrmModeName, 'tunnel' | 'transport'>;

/** XFRM_POLICY_IN / OUT / FWD: struct xfrm_userpolicy_info.dir. */
export const XfrmDirectionNumber = { in: 0, out: 1, fwd: 2 } as const;
export type XfrmDirection = keyof typeof XfrmDirectionNumber;
/**
 * XFRM_POLICY_MAX: a socket's own policy (setsockopt IP_XFRM_POLICY, as on the IKE sockets) is
 * kept with direction XFRM_POLICY_MAX + dir (xfrm_sk_policy_insert) and a dump reports it so
 * (xfrm_policy_walk hands dump_one_policy xfrm_policy_id2dir(index)): `ip xfrm policy` prints
 * "socket in" and "socket out".
 */
export const XFRM_POLICY_MAX = 3;

/** XFRM_POLICY_ALLOW / BLOCK: struct xfrm_userpolicy_info.action. */
export const XfrmActionNumber = { allow: 0, block: 1 } as const;
export type XfrmAction = keyof typeof XfrmActionNumber;

/** XFRM_SHARE_ANY: the only share mode the kernel implements. */
export const XFRM_SHARE_ANY = 0;

/** XFRM_INF: "no limit" in struct xfrm_lifetime_cfg's byte and packet limits (~(__u64)0). */
export const XFRM_INF = 0xffff_ffff_ffff_ffffn;

/** XFRMNLGRP_*: the multicast groups to join (bit `group - 1` of nl_groups, or NETLINK_ADD_MEMBERSHIP). */
export const XfrmMulticastGroup = {
  ACQUIRE: 1,
  EXPIRE: 2,
  SA: 3,
  POLICY: 4,
} as const;

/** IPPROTO_ESP (linux/in.h): xfrm_id.proto of an ESP SA (RFC 4303). */
export const IPPROTO_ESP = 50;

/** AF_INET and AF_INET6: the family fields of the XFRM structs. */
export const AF_INET = 2;
export const AF_INET6 = 10;

/**
 * Per-socket policies (setsockopt with a struct xfrm_userpolicy_info, see socketBypassPolicy):
 * level SOL_IP with IP_XFRM_POLICY (linux/in.h), level SOL_IPV6 with IPV6_XFRM_POLICY (linux/in6.h).
 */
export const SOL_IP = 0;
export const IP_XFRM_POLICY = 17;
export const SOL_IPV6 = 41;
export const IPV6_XFRM_POLICY = 35;

/**
 * UDP encapsulation of ESP (RFC 3948): setsockopt(SOL_UDP, UDP_ENCAP, UDP_ENCAP_ESPINUDP) on the
 * NAT-T socket (linux/udp.h), and the encap_type of struct xfrm_encap_tmpl.
 */
export const SOL_UDP = 17;
export const UDP_ENCAP = 100;
export const UDP_ENCAP_ESPINUDP = 2;

/** XFRMA_REPLAY_ESN_MAX: the largest replay bitmap, in octets, of struct xfrm_replay_state_esn. */
export const XFRMA_REPLAY_ESN_MAX = 4096;
