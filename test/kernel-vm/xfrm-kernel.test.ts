/**
 * The XFRM backend (XfrmKernel) in a kernel with ESP: one boot of the kernel VM, in which
 * xfrm-kernel.guest.ts installs the mirror images of a Child SA in two namespaces joined by veth,
 * for every ESP transform ikekm maps and with ESN, transport mode and UDP encapsulation, and
 * pings through it; then ALLOCSPI and UPDSA, byte limits and the kernel's expires, a trap and its
 * acquire, the kernel's refusals, and the removal of what a killed ikekm left.
 *
 * The expected algorithm names and ICV lengths come from the RFCs and the Linux crypto API, not
 * from xfrm-specs.ts; `ip xfrm` shows what the kernel holds, tshark what crossed the veth.
 */
import { describe, expect, it } from 'vitest';
import { describeKernelVm, kernelVmReady } from './gate.js';
import { useGuestScript } from './guest-script.js';
import type { CaseReport, EspPacket, LimitReport, RefusalsReport, SaKeys } from './xfrm-kernel.guest.js';

const vm = await kernelVmReady();

const A = { outer: '192.0.2.1', inner: '198.51.100.1' } as const;
const B = { outer: '192.0.2.2', inner: '203.0.113.1' } as const;

/** What `ip xfrm state` prints for the algorithms of an SA carrying `keys`. */
type AlgorithmLines = (keys: SaKeys) => string[];

/** AEAD: key with its salt, ICV length in bits. */
const aead =
  (name: string, keyOctets: number, icvBits: number): AlgorithmLines =>
  (keys) => {
    expect(keys.encryption).toHaveLength(2 * keyOctets);
    return [`\taead ${name} 0x${keys.encryption} ${icvBits}`];
  };

/** AES-CBC (RFC 3602) with an HMAC or XCBC truncated to the RFC's ICV length. */
const cbcWith =
  (keyOctets: number, integrity: string, integrityKeyOctets: number, truncationBits: number): AlgorithmLines =>
  (keys) => {
    expect(keys.encryption).toHaveLength(2 * keyOctets);
    expect(keys.integrity).toHaveLength(2 * integrityKeyOctets);
    return [`\tauth-trunc ${integrity} 0x${keys.integrity ?? ''} ${truncationBits}`, `\tenc cbc(aes) 0x${keys.encryption}`];
  };

interface Expected {
  readonly algorithm: AlgorithmLines;
  readonly mode: 'tunnel' | 'transport';
  readonly esn: boolean;
  readonly encapsulation: boolean;
}

const tunnel = { mode: 'tunnel', esn: false, encapsulation: false } as const;

/**
 * Every case the guest runs. Keys: RFC 4106 8.1 (AES key and a 4-octet salt), RFC 7634 2 (32
 * octets and 4 of salt), RFC 3602 (AES-CBC), RFC 2404, RFC 4868 and RFC 3566 (integrity keys as
 * long as the hash output, 16 octets for XCBC); ICVs: 16 octets for ENCR_AES_GCM_16 and
 * ChaCha20-Poly1305, 96 bits for HMAC-SHA1-96 and AES-XCBC-96, half the hash for HMAC-SHA2.
 */
const CASES: Readonly<Record<string, Expected>> = {
  aes128gcm16: { ...tunnel, algorithm: aead('rfc4106(gcm(aes))', 20, 128) },
  aes256gcm16: { ...tunnel, algorithm: aead('rfc4106(gcm(aes))', 36, 128) },
  chacha20poly1305: { ...tunnel, algorithm: aead('rfc7539esp(chacha20,poly1305)', 36, 128) },
  'aes128-sha1': { ...tunnel, algorithm: cbcWith(16, 'hmac(sha1)', 20, 96) },
  'aes128-sha256': { ...tunnel, algorithm: cbcWith(16, 'hmac(sha256)', 32, 128) },
  'aes192-sha384': { ...tunnel, algorithm: cbcWith(24, 'hmac(sha384)', 48, 192) },
  'aes256-sha512': { ...tunnel, algorithm: cbcWith(32, 'hmac(sha512)', 64, 256) },
  'aes128-aesxcbc': { ...tunnel, algorithm: cbcWith(16, 'xcbc(aes)', 16, 96) },
  'aes128gcm16-esn': { ...tunnel, esn: true, algorithm: aead('rfc4106(gcm(aes))', 20, 128) },
  'aes256-sha256-esn': { ...tunnel, esn: true, algorithm: cbcWith(32, 'hmac(sha256)', 32, 128) },
  'aes128gcm16-transport': { ...tunnel, mode: 'transport', algorithm: aead('rfc4106(gcm(aes))', 20, 128) },
  'aes128gcm16-udp-encap': { ...tunnel, encapsulation: true, algorithm: aead('rfc4106(gcm(aes))', 20, 128) },
};

/** The lines of the SA with this SPI in `ip xfrm state` output; fails when it is not there exactly once. */
function saBlock(text: string, spi: string): string[] {
  const blocks = text.split(/^(?=src )/m).filter((block) => block.includes(`\tproto esp spi 0x${spi} `));
  expect(blocks, `SA ${spi} once in:\n${text}`).toHaveLength(1);
  return blocks[0]!.replace(/\n$/, '').split('\n');
}

/** The policy blocks of `ip xfrm policy` output, sorted. */
function policyBlocks(text: string): string[] {
  return text
    .split(/^(?=src )/m)
    .filter((block) => block !== '')
    .sort();
}

/** Priority of a policy between two /32 selectors: 100000 − (32 + 32) × 4 (xfrm-specs.ts, strongSwan's order). */
const HOST_TO_HOST_PRIORITY = 99_744;

describeKernelVm('XfrmKernel in a kernel with ESP (kernel VM)', vm, () => {
  const guest = useGuestScript(new URL('./xfrm-kernel.guest.ts', import.meta.url), [], { timeoutMs: 600_000 });

  it('drives two namespaces of the VM kernel, each with its own XfrmKernel, to the end', () => {
    expect(guest.value<{ kernel: string }>('lab').kernel).toMatch(/^\d+\.\d+\.\d+-\d+-amd64$/);
    expect(guest.run.report?.complete).toBe(true);
    expect(guest.run.status).toBe(0);
  });

  it('runs every algorithm case, and only those', () => {
    const ran = (guest.run.report?.steps ?? []).map((s) => s.name).filter((name) => name.startsWith('algorithm '));
    expect(ran.sort()).toEqual(Object.keys(CASES).map((name) => `algorithm ${name}`).sort());
  });

  describe.each(Object.entries(CASES))('%s', (name, expected) => {
    const report = (): CaseReport => guest.value<CaseReport>(`algorithm ${name}`);
    const ends = expected.mode === 'transport' ? { a: A.inner, b: B.inner } : { a: A.outer, b: B.outer };

    it('ALLOCSPI left a larval SA for the inbound SPI, which UPDSA filled in', () => {
      const r = report();
      expect(r.spis.aToB).toMatch(/^c[0-9a-f]{7}$/);
      expect(r.spis.bToA).toMatch(/^c[0-9a-f]{7}$/);
      const larval = saBlock(r.larval, r.spis.aToB);
      expect(larval.slice(0, 2)).toEqual([`src ${ends.a} dst ${ends.b}`, `\tproto esp spi 0x${r.spis.aToB} reqid 0 mode tunnel`]);
      expect(larval.join('\n')).not.toMatch(/\t(aead|enc|auth-trunc) /);
      expect(saBlock(r.states.b, r.spis.aToB)[1]).toBe(`\tproto esp spi 0x${r.spis.aToB} reqid ${r.reqid} mode ${expected.mode}`);
    });

    it('each kernel holds both SAs with the algorithm, key, ICV, SPI, reqid, mode and encapsulation asked for', () => {
      const r = report();
      for (const [side, states] of Object.entries(r.states)) {
        for (const [spi, from, to, keys] of [
          [r.spis.aToB, ends.a, ends.b, r.keys.aToB],
          [r.spis.bToA, ends.b, ends.a, r.keys.bToA],
        ] as const) {
          const block = saBlock(states, spi);
          const inbound = (side === 'a') === (from === ends.b);
          expect(block[0]).toBe(`src ${from} dst ${to}`);
          expect(block[1]).toBe(`\tproto esp spi 0x${spi} reqid ${r.reqid} mode ${expected.mode}`);
          // Anti-replay on the inbound SA (32 packets, strongSwan's default). With ESN the window
          // is in the ESN replay state (the u8 field is 0), and the kernel wants one on both SAs.
          if (expected.esn) {
            expect(block[2]).toBe('\treplay-window 0 flag esn');
            expect(block).toContain('\t replay_window 32, bitmap-length 1');
          } else {
            expect(block[2]).toBe(`\treplay-window ${inbound ? 32 : 0} `);
          }
          for (const line of expected.algorithm(keys)) expect(block).toContain(line);
          expect(block.filter((line) => /^\t(aead|enc|auth|auth-trunc|comp) /.test(line))).toHaveLength(expected.algorithm(keys).length);
          const encap = block.filter((line) => line.startsWith('\tencap '));
          expect(encap).toEqual(expected.encapsulation ? ['\tencap type espinudp sport 4500 dport 4500 addr 0.0.0.0'] : []);
        }
      }
    });

    it('installs the policies that steer the protected hosts into the SAs', () => {
      const r = report();
      const tmpl = (src: string, dst: string): string =>
        expected.mode === 'tunnel' ? `\ttmpl src ${src} dst ${dst}\n\t\tproto esp reqid ${r.reqid} mode tunnel\n` : `\ttmpl src 0.0.0.0 dst 0.0.0.0\n\t\tproto esp reqid ${r.reqid} mode transport\n`;
      const policy = (dir: string, sel: readonly [string, string], t: readonly [string, string]): string =>
        `src ${sel[0]}/32 dst ${sel[1]}/32 \n\tdir ${dir} priority ${HOST_TO_HOST_PRIORITY} ptype main \n${tmpl(...t)}`;
      const sockets = expected.encapsulation ? ['src 0.0.0.0/0 dst 0.0.0.0/0 \n\tsocket in priority 0 ptype main \n', 'src 0.0.0.0/0 dst 0.0.0.0/0 \n\tsocket out priority 0 ptype main \n'] : [];
      for (const [side, self, peer] of [
        ['a', A, B],
        ['b', B, A],
      ] as const) {
        const inbound = [
          policy('in', [peer.inner, self.inner], [peer.outer, self.outer]),
          ...(expected.mode === 'tunnel' ? [policy('fwd', [peer.inner, self.inner], [peer.outer, self.outer])] : []),
        ];
        const expectedBlocks = [policy('out', [self.inner, peer.inner], [self.outer, peer.outer]), ...inbound, ...sockets];
        expect(policyBlocks(r.policies[side])).toEqual(expectedBlocks.sort());
      }
    });

    it('a ping between the protected addresses gets through, and all four SAs counted it', () => {
      const r = report();
      expect(r.ping).toContain(`from ${A.inner} : 56(84) bytes of data.`);
      expect(r.ping).toMatch(/\b3 packets transmitted, 3 received, 0% packet loss/);
      // The kernel counts what ESP protects: the inner IPv4 packet in tunnel mode (20 + 8 + 56
      // octets), its payload in transport mode (8 + 56).
      const perPacket = expected.mode === 'tunnel' ? 84 : 64;
      // With UDP encapsulation one more ping went out before the NAT-T sockets were protected.
      const sentByA = expected.encapsulation ? 4 : 3;
      const counted = (packets: number) => ({ bytes: packets * perPacket, packets });
      expect(r.usage).toEqual({ a: { out: counted(sentByA), in: counted(3) }, b: { out: counted(3), in: counted(3) } });
    });

    it('the pings crossed the veth as ESP with these SPIs (tshark)', () => {
      const r = report();
      const packets = guest.value<EspPacket[]>('esp-on-the-wire');
      const outer = expected.encapsulation ? { proto: '17', udpDstPort: '4500' } : { proto: '50', udpDstPort: '' };
      const aToB = packets.filter((p) => p.spi === `0x${r.spis.aToB}`);
      const bToA = packets.filter((p) => p.spi === `0x${r.spis.bToA}`);
      expect(aToB).toEqual(Array(expected.encapsulation ? 4 : 3).fill({ src: ends.a, dst: ends.b, ...outer, spi: `0x${r.spis.aToB}` }));
      expect(bToA).toEqual(Array(3).fill({ src: ends.b, dst: ends.a, ...outer, spi: `0x${r.spis.bToA}` }));
    });

    it('deleteSa and deletePolicy leave nothing in either kernel', () => {
      expect(report().afterDelete).toEqual({ a: '', b: '' });
    });

    if (expected.encapsulation) {
      it('protectIkeSocket makes the kernel take ESP-in-UDP off the NAT-T socket', () => {
        const r = report();
        // Bound but unprotected, b's socket on 4500 got the datagram (an SPI where IKE has its
        // non-ESP marker) and the ping went unanswered.
        expect(r.natt?.unprotected.datagrams).toEqual([r.spis.aToB]);
        expect(r.natt?.unprotected.ping).toMatch(/\b1 packets transmitted, 0 received/);
        expect(r.natt?.protectedDatagrams).toBe(0);
      });
    }
  });

  it('releases an SPI it allocated and never used', () => {
    const r = guest.value<{ spi: string; allocated: string; released: string }>('spi-release');
    expect(saBlock(r.allocated, r.spi).slice(0, 2)).toEqual([`src ${A.outer} dst ${B.outer}`, `\tproto esp spi 0x${r.spi} reqid 0 mode tunnel`]);
    expect(r.released).not.toContain(`spi 0x${r.spi}`);
  });

  it('installs an inbound SA whose larval SA from ALLOCSPI has expired (an IKE_AUTH slower than xfrm_acq_expires)', () => {
    const r = guest.value<{ spi: string; reqid: number; allocated: string; error: unknown; installed: string; key: string }>('allocspi-expired');
    expect(saBlock(r.allocated, r.spi)[1]).toBe(`\tproto esp spi 0x${r.spi} reqid 0 mode tunnel`);
    expect(r.error).toBeUndefined();
    const block = saBlock(r.installed, r.spi);
    expect(block[1]).toBe(`\tproto esp spi 0x${r.spi} reqid ${r.reqid} mode tunnel`);
    expect(block).toContain(`\taead rfc4106(gcm(aes)) 0x${r.key} 128`);
  });

  it('reports the soft byte limit, then the hard one, after which the kernel has removed the SA', () => {
    const r = guest.value<LimitReport>('byte-limits');
    const soft = { destination: B.outer, spi: Number.parseInt(r.spi, 16), hard: false };
    const hard = { ...soft, hard: true };
    // One 1000-octet packet per ping (972 octets of data, 8 of ICMP, 20 of IPv4). The kernel
    // checks the limits before it counts a packet: the packet after 2500 octets raises the soft
    // expire and goes out; the one after 4500 raises the hard expire and is dropped.
    expect(r.pings).toEqual([
      { bytesBefore: 0, received: true, expires: [] },
      { bytesBefore: 1000, received: true, expires: [] },
      { bytesBefore: 2000, received: true, expires: [] },
      { bytesBefore: 3000, received: true, expires: [soft] },
      { bytesBefore: 4000, received: true, expires: [soft] },
      { bytesBefore: 5000, received: false, expires: [soft, hard] },
    ]);
    expect(r.usageAfterHard).toBeUndefined();
    expect(r.statesAfterHard).not.toContain(`spi 0x${r.spi}`);
  });

  it('a ping into a trap raises an acquire naming the connection, the reqid and the packet', () => {
    const r = guest.value<{ received: number; acquires: unknown[]; reqid: number; states: string; policies: string; policiesAfterDelete: string }>('trap-acquire');
    expect(r.received).toBe(0);
    expect(r.acquires).toHaveLength(1);
    expect(r.acquires[0]).toMatchObject({
      connection: 'on-demand',
      reqid: r.reqid,
      packet: { source: A.inner, destination: B.inner, ipProtocol: 1 },
      local: { ipProtocol: 0, startPort: 0, endPort: 0xffff, startAddress: A.inner, endAddress: A.inner },
      remote: { ipProtocol: 0, startPort: 0, endPort: 0xffff, startAddress: B.inner, endAddress: B.inner },
    });
    expect(policyBlocks(r.policies)).toEqual([
      `src ${A.inner}/32 dst ${B.inner}/32 \n\tdir out priority ${HOST_TO_HOST_PRIORITY} ptype main \n\ttmpl src ${A.outer} dst ${B.outer}\n\t\tproto esp reqid ${r.reqid} mode tunnel\n`,
    ]);
    // The kernel's larval SA for the acquire, with the packet's selector.
    const larval = saBlock(r.states, '00000000');
    expect(larval[1]).toBe(`\tproto esp spi 0x00000000 reqid ${r.reqid} mode tunnel`);
    expect(larval).toContain(`\tsel src ${A.inner}/32 dst ${B.inner}/32 proto icmp type 8 code 0 dev veth-a `);
    expect(r.policiesAfterDelete).toBe('');
  });

  it('refuses an AES-GCM key of the wrong length itself, before the kernel is asked', () => {
    const r = guest.value<RefusalsReport>('refusals').wrongGcmKey;
    expect(r).toMatchObject({ isKernelError: true, code: 'invalid', message: 'rfc4106(gcm(aes)) takes a key of 20/28/36 octets, not 19' });
    expect(r.errno).toBeUndefined();
    expect(r.statesAfter).toBe(r.statesBefore);
  });

  it("passes on the kernel's refusals as KernelErrors that say what was asked and why", () => {
    const r = guest.value<RefusalsReport>('refusals');
    expect(r.saTwice).toMatchObject({ isKernelError: true, code: 'exists', errno: 17 });
    expect(r.saTwice.message).toMatch(/^installing ESP SA c[0-9a-f]{7} to 192\.0\.2\.2: already installed \(EEXIST\)$/);
    expect(r.policyTwice).toEqual({ isKernelError: true, code: 'exists', errno: 17, message: 'installing the out policy of aes128gcm16: already installed (EEXIST)' });
    expect(r.deleteMissingSa).toEqual({ isKernelError: true, code: 'not-found', errno: 3, message: 'deleting ESP SA c0000300 to 192.0.2.2: not installed (ESRCH)' });
    expect(r.deleteMissingPolicy).toEqual({ isKernelError: true, code: 'not-found', errno: 2, message: 'deleting the out policy of aes128gcm16: not installed (ENOENT)' });
  });

  it("removeLeftovers removes the SAs and policies with ikekm's reqids, not another key manager's", () => {
    const r = guest.value<{ ours: number; before: { states: string; policies: string }; removed: { sas: number; policies: number }; states: string; policies: string }>('leftovers');
    expect(r.before.states.match(new RegExp(`reqid ${r.ours} `, 'g'))).toHaveLength(2);
    expect(r.before.policies).toContain(`proto esp reqid ${r.ours} mode tunnel`);
    expect(r.removed).toEqual({ sas: 2, policies: 1 });
    expect(r.states).not.toContain(`reqid ${r.ours} `);
    expect(r.policies).not.toContain(`reqid ${r.ours} `);
    expect(r.states).toContain('\tproto esp spi 0x00000700 reqid 7 mode tunnel');
    expect(policyBlocks(r.policies)).toEqual([`src 198.51.100.7/32 dst ${B.inner}/32 \n\tdir in priority 0 ptype main \n\ttmpl src ${A.outer} dst ${B.outer}\n\t\tproto esp reqid 7 mode tunnel\n`]);
  });
});
