/**
 * The netlink socket from Node (koffi FFI to libc): a real NETLINK_XFRM socket on this host's
 * kernel. XFRM requests need CAP_NET_ADMIN: without it (a laptop, not root) the test skips loudly,
 * and under CI=true that is a failure. The host kernel has XFRM policies (no ESP states), so a
 * policy added, dumped and deleted in a throw-away network namespace proves requests and answers.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NETLINK_XFRM } from '../../../src/kernel/netlink/libc.js';
import { NetlinkSocket, NetlinkSocketError } from '../../../src/kernel/netlink/netlink-socket.js';

const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const XFRM_MSG_GETPOLICY = 0x15;
const XFRM_MSG_ACQUIRE = 0x17;
const NLM_F_REQUEST = 0x1;
const NLM_F_DUMP = 0x300;

function header(type: number, flags: number, seq: number, bodyLength = 0): Buffer {
  const b = Buffer.alloc(16 + bodyLength);
  b.writeUInt32LE(b.length, 0);
  b.writeUInt16LE(type, 4);
  b.writeUInt16LE(flags, 6);
  b.writeUInt32LE(seq, 8);
  return b;
}

/** Every netlink message in a datagram: [type, seq]. */
function messages(datagram: Buffer): [number, number][] {
  const out: [number, number][] = [];
  for (let at = 0; at + 16 <= datagram.length; ) {
    const len = datagram.readUInt32LE(at);
    out.push([datagram.readUInt16LE(at + 4), datagram.readUInt32LE(at + 8)]);
    if (len < 16) break;
    at += (len + 3) & ~3;
  }
  return out;
}

const endOf = (seq: number) => (d: Buffer) => messages(d).some(([type, s]) => s === seq && (type === NLMSG_DONE || type === NLMSG_ERROR));

function canAdmin(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (XFRM netlink needs CAP_NET_ADMIN)';
  return undefined;
}

const why = canAdmin();
if (why !== undefined) {
  if (process.env.CI === 'true') throw new Error(`netlink socket test cannot run under CI: ${why}`);
  console.warn(`SKIPPING netlink socket tests: ${why}`);
}

describe.skipIf(why !== undefined)('NetlinkSocket (NETLINK_XFRM, this host)', () => {
  const ns = `ikekm-nl-${process.pid}`;
  beforeAll(() => {
    execFileSync('ip', ['netns', 'add', ns]);
  });
  afterAll(() => {
    spawnSync('ip', ['netns', 'del', ns]);
  });

  it('a dump request is answered at once: its parts, then NLMSG_DONE with our sequence number', () => {
    const socket = NetlinkSocket.open(NETLINK_XFRM);
    try {
      const answer = socket.transact(header(XFRM_MSG_GETPOLICY, NLM_F_REQUEST | NLM_F_DUMP, 4242), endOf(4242));
      expect(messages(answer.at(-1)!).at(-1)).toEqual([NLMSG_DONE, 4242]);
    } finally {
      socket.close();
    }
  });

  it('sees the policies of the namespace it runs in (ip adds one, the dump lists it)', () => {
    // The socket belongs to this process's namespace; run the same dump inside the throw-away one
    // through a child that reports the types it got.
    execFileSync('ip', ['-n', ns, 'xfrm', 'policy', 'add', 'src', '198.51.100.0/24', 'dst', '203.0.113.0/24', 'dir', 'out', 'tmpl', 'src', '192.0.2.1', 'dst', '192.0.2.2', 'proto', 'esp', 'reqid', '7', 'mode', 'tunnel']);
    const script = `
      import { NetlinkSocket } from './src/kernel/netlink/netlink-socket.ts';
      const s = NetlinkSocket.open(6);
      const req = Buffer.alloc(16); req.writeUInt32LE(16, 0); req.writeUInt16LE(${XFRM_MSG_GETPOLICY}, 4); req.writeUInt16LE(${NLM_F_REQUEST | NLM_F_DUMP}, 6); req.writeUInt32LE(7, 8);
      const types = [];
      s.transact(req, (d) => { for (let at = 0; at + 16 <= d.length; at += (d.readUInt32LE(at) + 3) & ~3) types.push(d.readUInt16LE(at + 4)); return types.includes(3) || types.includes(2); });
      console.log(JSON.stringify(types));
    `;
    const out = execFileSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    const types = JSON.parse(out.trim().split('\n').at(-1)!) as number[];
    // One XFRM_MSG_NEWPOLICY (0x13) for the policy ip added, then NLMSG_DONE.
    expect(types).toEqual([0x13, NLMSG_DONE]);
  });

  it('a listener on the acquire group hears XFRM_MSG_ACQUIRE when a packet meets a policy without a state', () => {
    // In the namespace: our side 198.51.100.1 (lo), the gateway link 192.0.2.1 on a veth, a route
    // to the peer's 203.0.113.0/24 and a tunnel policy for it with no SA behind it yet.
    const ip = (...args: string[]) => execFileSync('ip', ['-n', ns, ...args]);
    ip('link', 'set', 'lo', 'up');
    ip('link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
    ip('link', 'set', 'v0', 'up');
    ip('link', 'set', 'v1', 'up');
    ip('addr', 'add', '192.0.2.1/24', 'dev', 'v0');
    ip('addr', 'add', '198.51.100.1/24', 'dev', 'lo');
    ip('route', 'add', '203.0.113.0/24', 'via', '192.0.2.2');
    ip('xfrm', 'policy', 'update', 'src', '198.51.100.0/24', 'dst', '203.0.113.0/24', 'dir', 'out', 'tmpl', 'src', '192.0.2.1', 'dst', '192.0.2.2', 'proto', 'esp', 'reqid', '8', 'mode', 'tunnel');
    const script = `
      import dgram from 'node:dgram';
      import { NetlinkSocket } from './src/kernel/netlink/netlink-socket.ts';
      const s = NetlinkSocket.open(6, 1); // XFRMNLGRP_ACQUIRE is group 1: bit 0
      const types = [];
      const stop = s.listen((d) => types.push(d.readUInt16LE(4)));
      const u = dgram.createSocket('udp4');
      u.bind(0, '198.51.100.1', () => u.send('x', 9, '203.0.113.1', () => {}));
      setTimeout(() => { stop(); s.close(); u.close(); console.log(JSON.stringify(types)); }, 1500);
    `;
    const out = execFileSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    const types = JSON.parse(out.trim().split('\n').at(-1)!) as number[];
    expect(types).toContain(XFRM_MSG_ACQUIRE);
  });

  it('a request on a closed socket is a NetlinkSocketError, not a crash', () => {
    const socket = NetlinkSocket.open(NETLINK_XFRM);
    socket.close();
    expect(() => socket.transact(header(XFRM_MSG_GETPOLICY, NLM_F_REQUEST | NLM_F_DUMP, 1), endOf(1))).toThrow(NetlinkSocketError);
  });
});
