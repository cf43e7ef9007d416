/**
 * The struct layouts and constants of the codec against the C compiler's view of the kernel's
 * headers. GCC_TABLE is what a small C program printed with `sizeof`, `offsetof` and the
 * constants' values, compiled by gcc 12.2.0 for x86_64 against the headers of Debian 12's
 * linux-libc-dev 6.1.187 (linux/netlink.h, linux/xfrm.h, linux/in.h, linux/in6.h, linux/udp.h)
 * and, for the socket option levels, glibc's sys/socket.h, netinet/in.h and netinet/udp.h. Every size and
 * offset the codec uses, and every constant it exports, must be in it with the same value.
 */
import { describe, expect, it } from 'vitest';
import { NETLINK_ATTRIBUTE_HEADER_LENGTH, NETLINK_HEADER_LENGTH, NetlinkFlag, NetlinkMessageType, NetlinkSocketOption, SOL_NETLINK } from '../../../src/kernel/xfrm/netlink.js';
import * as C from '../../../src/kernel/xfrm/xfrm-constants.js';
import * as L from '../../../src/kernel/xfrm/xfrm-layout.js';

const GCC_TABLE = `
  size xfrm_address_t 16
  size nlmsghdr 16
  off nlmsghdr.nlmsg_len 0
  off nlmsghdr.nlmsg_type 4
  off nlmsghdr.nlmsg_flags 6
  off nlmsghdr.nlmsg_seq 8
  off nlmsghdr.nlmsg_pid 12
  size nlmsgerr 20
  off nlmsgerr.error 0
  off nlmsgerr.msg 4
  size nlattr 4
  off nlattr.nla_len 0
  off nlattr.nla_type 2
  size xfrm_selector 56
  off xfrm_selector.daddr 0
  off xfrm_selector.saddr 16
  off xfrm_selector.dport 32
  off xfrm_selector.dport_mask 34
  off xfrm_selector.sport 36
  off xfrm_selector.sport_mask 38
  off xfrm_selector.family 40
  off xfrm_selector.prefixlen_d 42
  off xfrm_selector.prefixlen_s 43
  off xfrm_selector.proto 44
  off xfrm_selector.ifindex 48
  off xfrm_selector.user 52
  size xfrm_id 24
  off xfrm_id.daddr 0
  off xfrm_id.spi 16
  off xfrm_id.proto 20
  size xfrm_lifetime_cfg 64
  off xfrm_lifetime_cfg.soft_byte_limit 0
  off xfrm_lifetime_cfg.hard_byte_limit 8
  off xfrm_lifetime_cfg.soft_packet_limit 16
  off xfrm_lifetime_cfg.hard_packet_limit 24
  off xfrm_lifetime_cfg.soft_add_expires_seconds 32
  off xfrm_lifetime_cfg.hard_add_expires_seconds 40
  off xfrm_lifetime_cfg.soft_use_expires_seconds 48
  off xfrm_lifetime_cfg.hard_use_expires_seconds 56
  size xfrm_lifetime_cur 32
  off xfrm_lifetime_cur.bytes 0
  off xfrm_lifetime_cur.packets 8
  off xfrm_lifetime_cur.add_time 16
  off xfrm_lifetime_cur.use_time 24
  size xfrm_stats 12
  off xfrm_stats.replay_window 0
  off xfrm_stats.replay 4
  off xfrm_stats.integrity_failed 8
  size xfrm_usersa_info 224
  off xfrm_usersa_info.sel 0
  off xfrm_usersa_info.id 56
  off xfrm_usersa_info.saddr 80
  off xfrm_usersa_info.lft 96
  off xfrm_usersa_info.curlft 160
  off xfrm_usersa_info.stats 192
  off xfrm_usersa_info.seq 204
  off xfrm_usersa_info.reqid 208
  off xfrm_usersa_info.family 212
  off xfrm_usersa_info.mode 214
  off xfrm_usersa_info.replay_window 215
  off xfrm_usersa_info.flags 216
  size xfrm_usersa_id 24
  off xfrm_usersa_id.daddr 0
  off xfrm_usersa_id.spi 16
  off xfrm_usersa_id.family 20
  off xfrm_usersa_id.proto 22
  size xfrm_userspi_info 232
  off xfrm_userspi_info.info 0
  off xfrm_userspi_info.min 224
  off xfrm_userspi_info.max 228
  size xfrm_userpolicy_info 168
  off xfrm_userpolicy_info.sel 0
  off xfrm_userpolicy_info.lft 56
  off xfrm_userpolicy_info.curlft 120
  off xfrm_userpolicy_info.priority 152
  off xfrm_userpolicy_info.index 156
  off xfrm_userpolicy_info.dir 160
  off xfrm_userpolicy_info.action 161
  off xfrm_userpolicy_info.flags 162
  off xfrm_userpolicy_info.share 163
  size xfrm_userpolicy_id 64
  off xfrm_userpolicy_id.sel 0
  off xfrm_userpolicy_id.index 56
  off xfrm_userpolicy_id.dir 60
  size xfrm_user_tmpl 64
  off xfrm_user_tmpl.id 0
  off xfrm_user_tmpl.family 24
  off xfrm_user_tmpl.saddr 28
  off xfrm_user_tmpl.reqid 44
  off xfrm_user_tmpl.mode 48
  off xfrm_user_tmpl.share 49
  off xfrm_user_tmpl.optional 50
  off xfrm_user_tmpl.aalgos 52
  off xfrm_user_tmpl.ealgos 56
  off xfrm_user_tmpl.calgos 60
  size xfrm_user_expire 232
  off xfrm_user_expire.state 0
  off xfrm_user_expire.hard 224
  size xfrm_user_acquire 280
  off xfrm_user_acquire.id 0
  off xfrm_user_acquire.saddr 24
  off xfrm_user_acquire.sel 40
  off xfrm_user_acquire.policy 96
  off xfrm_user_acquire.aalgos 264
  off xfrm_user_acquire.ealgos 268
  off xfrm_user_acquire.calgos 272
  off xfrm_user_acquire.seq 276
  size xfrm_user_polexpire 176
  off xfrm_user_polexpire.pol 0
  off xfrm_user_polexpire.hard 168
  size xfrm_algo 68
  off xfrm_algo.alg_name 0
  off xfrm_algo.alg_key_len 64
  off xfrm_algo.alg_key 68
  size xfrm_algo_auth 72
  off xfrm_algo_auth.alg_name 0
  off xfrm_algo_auth.alg_key_len 64
  off xfrm_algo_auth.alg_trunc_len 68
  off xfrm_algo_auth.alg_key 72
  size xfrm_algo_aead 72
  off xfrm_algo_aead.alg_name 0
  off xfrm_algo_aead.alg_key_len 64
  off xfrm_algo_aead.alg_icv_len 68
  off xfrm_algo_aead.alg_key 72
  size xfrm_encap_tmpl 24
  off xfrm_encap_tmpl.encap_type 0
  off xfrm_encap_tmpl.encap_sport 2
  off xfrm_encap_tmpl.encap_dport 4
  off xfrm_encap_tmpl.encap_oa 8
  size xfrm_replay_state_esn 24
  off xfrm_replay_state_esn.bmp_len 0
  off xfrm_replay_state_esn.oseq 4
  off xfrm_replay_state_esn.seq 8
  off xfrm_replay_state_esn.oseq_hi 12
  off xfrm_replay_state_esn.seq_hi 16
  off xfrm_replay_state_esn.replay_window 20
  off xfrm_replay_state_esn.bmp 24
  size xfrm_replay_state 12
  size xfrm_mark 8
  off xfrm_mark.v 0
  off xfrm_mark.m 4
  const NLMSG_ALIGNTO 4
  const NLA_ALIGNTO 4
  const NLMSG_HDRLEN 16
  const NLA_HDRLEN 4
  const NLMSG_NOOP 1
  const NLMSG_ERROR 2
  const NLMSG_DONE 3
  const NLMSG_OVERRUN 4
  const NLM_F_REQUEST 1
  const NLM_F_MULTI 2
  const NLM_F_ACK 4
  const NLM_F_ECHO 8
  const NLM_F_DUMP_INTR 16
  const NLM_F_ROOT 256
  const NLM_F_MATCH 512
  const NLM_F_DUMP 768
  const NLM_F_REPLACE 256
  const NLM_F_EXCL 512
  const NLM_F_CREATE 1024
  const NLM_F_CAPPED 256
  const NLM_F_ACK_TLVS 512
  const NETLINK_XFRM 6
  const XFRM_MSG_NEWSA 16
  const XFRM_MSG_DELSA 17
  const XFRM_MSG_GETSA 18
  const XFRM_MSG_NEWPOLICY 19
  const XFRM_MSG_DELPOLICY 20
  const XFRM_MSG_GETPOLICY 21
  const XFRM_MSG_ALLOCSPI 22
  const XFRM_MSG_ACQUIRE 23
  const XFRM_MSG_EXPIRE 24
  const XFRM_MSG_UPDPOLICY 25
  const XFRM_MSG_UPDSA 26
  const XFRM_MSG_POLEXPIRE 27
  const XFRM_MSG_FLUSHSA 28
  const XFRM_MSG_FLUSHPOLICY 29
  const XFRMA_UNSPEC 0
  const XFRMA_ALG_AUTH 1
  const XFRMA_ALG_CRYPT 2
  const XFRMA_ALG_COMP 3
  const XFRMA_ENCAP 4
  const XFRMA_TMPL 5
  const XFRMA_SA 6
  const XFRMA_POLICY 7
  const XFRMA_SEC_CTX 8
  const XFRMA_LTIME_VAL 9
  const XFRMA_REPLAY_VAL 10
  const XFRMA_REPLAY_THRESH 11
  const XFRMA_ETIMER_THRESH 12
  const XFRMA_SRCADDR 13
  const XFRMA_COADDR 14
  const XFRMA_LASTUSED 15
  const XFRMA_POLICY_TYPE 16
  const XFRMA_MIGRATE 17
  const XFRMA_ALG_AEAD 18
  const XFRMA_KMADDRESS 19
  const XFRMA_ALG_AUTH_TRUNC 20
  const XFRMA_MARK 21
  const XFRMA_TFCPAD 22
  const XFRMA_REPLAY_ESN_VAL 23
  const XFRMA_SA_EXTRA_FLAGS 24
  const XFRMA_PROTO 25
  const XFRMA_ADDRESS_FILTER 26
  const XFRMA_PAD 27
  const XFRMA_OFFLOAD_DEV 28
  const XFRMA_SET_MARK 29
  const XFRMA_SET_MARK_MASK 30
  const XFRMA_IF_ID 31
  const XFRM_STATE_NOECN 1
  const XFRM_STATE_DECAP_DSCP 2
  const XFRM_STATE_NOPMTUDISC 4
  const XFRM_STATE_WILDRECV 8
  const XFRM_STATE_ICMP 16
  const XFRM_STATE_AF_UNSPEC 32
  const XFRM_STATE_ALIGN4 64
  const XFRM_STATE_ESN 128
  const XFRM_POLICY_IN 0
  const XFRM_POLICY_OUT 1
  const XFRM_POLICY_FWD 2
  const XFRM_POLICY_ALLOW 0
  const XFRM_POLICY_BLOCK 1
  const XFRM_POLICY_LOCALOK 1
  const XFRM_POLICY_ICMP 2
  const XFRM_SHARE_ANY 0
  const XFRM_SHARE_UNIQUE 3
  const XFRM_MODE_TRANSPORT 0
  const XFRM_MODE_TUNNEL 1
  const XFRM_MODE_ROUTEOPTIMIZATION 2
  const XFRM_MODE_IN_TRIGGER 3
  const XFRM_MODE_BEET 4
  const XFRM_INF==~0ULL 1
  const XFRMNLGRP_NONE 0
  const XFRMNLGRP_ACQUIRE 1
  const XFRMNLGRP_EXPIRE 2
  const XFRMNLGRP_SA 3
  const XFRMNLGRP_POLICY 4
  const XFRM_POLICY_TYPE_MAIN 0
  const IPPROTO_ESP 50
  const IP_XFRM_POLICY 17
  const IPV6_XFRM_POLICY 35
  const AF_INET 2
  const AF_INET6 10
  const UDP_ENCAP 100
  const UDP_ENCAP_ESPINUDP 2
  const XFRMA_REPLAY_ESN_MAX 4096
  const NLMSGERR_ATTR_MSG 1
  const NETLINK_ADD_MEMBERSHIP 1
  const NETLINK_CAP_ACK 10
  const NETLINK_EXT_ACK 11
  const NLA_TYPE_MASK & 0xffff 16383
  const SOL_NETLINK 270
  const SOL_IP 0
  const SOL_IPV6 41
  const SOL_UDP 17
`;

function table(kind: 'size' | 'off' | 'const'): Map<string, number> {
  const entries = GCC_TABLE.trim()
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith(`${kind} `))
    .map((line): [string, number] => {
      const rest = line.slice(kind.length + 1);
      const space = rest.lastIndexOf(' ');
      return [rest.slice(0, space), Number(rest.slice(space + 1))];
    });
  return new Map(entries);
}

/** The codec's layouts by C struct name. */
const LAYOUTS: Record<string, Record<string, number>> = {
  xfrm_selector: L.XFRM_SELECTOR,
  xfrm_id: L.XFRM_ID,
  xfrm_lifetime_cfg: L.XFRM_LIFETIME_CFG,
  xfrm_lifetime_cur: L.XFRM_LIFETIME_CUR,
  xfrm_stats: L.XFRM_STATS,
  xfrm_usersa_info: L.XFRM_USERSA_INFO,
  xfrm_usersa_id: L.XFRM_USERSA_ID,
  xfrm_userspi_info: L.XFRM_USERSPI_INFO,
  xfrm_userpolicy_info: L.XFRM_USERPOLICY_INFO,
  xfrm_userpolicy_id: L.XFRM_USERPOLICY_ID,
  xfrm_user_tmpl: L.XFRM_USER_TMPL,
  xfrm_user_expire: L.XFRM_USER_EXPIRE,
  xfrm_user_acquire: L.XFRM_USER_ACQUIRE,
  xfrm_user_polexpire: L.XFRM_USER_POLEXPIRE,
  xfrm_algo: L.XFRM_ALGO,
  xfrm_algo_auth: L.XFRM_ALGO_AUTH,
  xfrm_algo_aead: L.XFRM_ALGO_AEAD,
  xfrm_encap_tmpl: L.XFRM_ENCAP_TMPL,
  xfrm_replay_state_esn: L.XFRM_REPLAY_STATE_ESN,
  xfrm_mark: L.XFRM_MARK,
};

/** The codec's constants by their C names. */
const CONSTANTS: Record<string, number> = {
  NLMSG_ALIGNTO: 4,
  NLMSG_HDRLEN: NETLINK_HEADER_LENGTH,
  NLA_HDRLEN: NETLINK_ATTRIBUTE_HEADER_LENGTH,
  ...prefixed('NLMSG_', NetlinkMessageType),
  ...prefixed('NLM_F_', NetlinkFlag),
  SOL_NETLINK,
  ...prefixed('NETLINK_', NetlinkSocketOption),
  NETLINK_XFRM: C.NETLINK_XFRM,
  ...prefixed('XFRM_MSG_', C.XfrmMessageType),
  ...prefixed('XFRMA_', C.XfrmAttributeType),
  ...prefixed('XFRM_STATE_', C.XfrmStateFlag),
  XFRM_MODE_TRANSPORT: C.XfrmModeNumber.transport,
  XFRM_MODE_TUNNEL: C.XfrmModeNumber.tunnel,
  XFRM_MODE_ROUTEOPTIMIZATION: C.XfrmModeNumber['route-optimization'],
  XFRM_MODE_IN_TRIGGER: C.XfrmModeNumber['in-trigger'],
  XFRM_MODE_BEET: C.XfrmModeNumber.beet,
  XFRM_POLICY_IN: C.XfrmDirectionNumber.in,
  XFRM_POLICY_OUT: C.XfrmDirectionNumber.out,
  XFRM_POLICY_FWD: C.XfrmDirectionNumber.fwd,
  XFRM_POLICY_ALLOW: C.XfrmActionNumber.allow,
  XFRM_POLICY_BLOCK: C.XfrmActionNumber.block,
  XFRM_SHARE_ANY: C.XFRM_SHARE_ANY,
  ...prefixed('XFRMNLGRP_', C.XfrmMulticastGroup),
  XFRMA_REPLAY_ESN_MAX: C.XFRMA_REPLAY_ESN_MAX,
  IPPROTO_ESP: C.IPPROTO_ESP,
  AF_INET: C.AF_INET,
  AF_INET6: C.AF_INET6,
  SOL_IP: C.SOL_IP,
  SOL_IPV6: C.SOL_IPV6,
  SOL_UDP: C.SOL_UDP,
  IP_XFRM_POLICY: C.IP_XFRM_POLICY,
  IPV6_XFRM_POLICY: C.IPV6_XFRM_POLICY,
  UDP_ENCAP: C.UDP_ENCAP,
  UDP_ENCAP_ESPINUDP: C.UDP_ENCAP_ESPINUDP,
};

function prefixed(prefix: string, values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [prefix + name, value]));
}

describe('XFRM struct layouts and constants, against gcc and linux/xfrm.h', () => {
  const sizes = table('size');
  const offsets = table('off');
  const constants = table('const');

  it.each(Object.entries(LAYOUTS))('%s: sizeof and every offsetof the codec uses', (struct, layout) => {
    for (const [field, value] of Object.entries(layout)) {
      const c = field === 'sizeof' ? sizes.get(struct) : offsets.get(`${struct}.${field}`);
      expect({ struct, field, value }).toEqual({ struct, field, value: c });
    }
  });

  it('xfrm_address_t, nlmsghdr, nlattr and nlmsgerr sizes', () => {
    expect(sizes.get('xfrm_address_t')).toBe(L.XFRM_ADDRESS.sizeof);
    expect(sizes.get('nlmsghdr')).toBe(NETLINK_HEADER_LENGTH);
    expect(sizes.get('nlattr')).toBe(NETLINK_ATTRIBUTE_HEADER_LENGTH);
    // struct nlmsgerr: the int error, then the request's header.
    expect(sizes.get('nlmsgerr')).toBe(4 + NETLINK_HEADER_LENGTH);
    expect(offsets.get('nlmsgerr.msg')).toBe(4);
  });

  it.each(Object.entries(CONSTANTS))('%s = %d', (name, value) => {
    expect(constants.get(name)).toBe(value);
  });

  it('XFRM_INF is all ones in 64 bits', () => {
    expect(constants.get('XFRM_INF==~0ULL')).toBe(1);
    expect(C.XFRM_INF).toBe(2n ** 64n - 1n);
  });
});
