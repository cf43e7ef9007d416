/**
 * The XFRM backend's status read (readUsage): two dumps looked up as KernelUsage. A policy is
 * found by the selector the kernel reports for it, which is the one policySpec wrote (defaults
 * applied, addresses as the kernel prints them); an SA by destination and SPI.
 */
import { describe, expect, it } from 'vitest';
import type { KernelPolicy, TrafficSelectorRange } from '../../src/kernel/kernel-port.js';
import type { XfrmPolicyState, XfrmSaState } from '../../src/kernel/xfrm/index.js';
import { policySpec } from '../../src/kernel/xfrm-specs.js';
import { xfrmUsageTable } from '../../src/kernel/xfrm-usage-table.js';

const range = (start: string, end: string, ports: [number, number] = [0, 65535], ipProtocol = 0): TrafficSelectorRange => ({ ipProtocol, startPort: ports[0], endPort: ports[1], startAddress: start, endAddress: end });

const policy = (direction: KernelPolicy['direction'], local: TrafficSelectorRange, remote: TrafficSelectorRange): KernelPolicy => ({
  connection: 'lab',
  direction,
  local,
  remote,
  mode: 'tunnel',
  tunnelSource: '192.0.2.1',
  tunnelDestination: '192.0.2.2',
  reqid: 0x4b4d0001,
});

/** The policy as a GETPOLICY dump reports it: every selector field set, addresses as the kernel prints them. */
function dumped(p: KernelPolicy, useTime: number, print: (address: string) => string = (a) => a): XfrmPolicyState {
  const s = policySpec(p).selector;
  return {
    selector: {
      family: s.family,
      source: print(s.source),
      sourcePrefixLength: s.sourcePrefixLength,
      destination: print(s.destination),
      destinationPrefixLength: s.destinationPrefixLength,
      sourcePort: s.sourcePort ?? 0,
      sourcePortMask: s.sourcePortMask ?? 0,
      destinationPort: s.destinationPort ?? 0,
      destinationPortMask: s.destinationPortMask ?? 0,
      ipProtocol: s.ipProtocol ?? 0,
      ifindex: 0,
    },
    direction: p.direction,
    socket: false,
    action: 'allow',
    priority: 0,
    index: 0,
    flags: 0,
    usage: { bytes: 0, packets: 0, addTime: 1_765_000_000, useTime },
  } as XfrmPolicyState;
}

const sa = (destination: string, spi: number, bytes: number, packets: number): XfrmSaState => ({ destination, spi, usage: { bytes, packets, addTime: 0, useTime: 0 } }) as unknown as XfrmSaState;

describe('xfrmUsageTable', () => {
  it("each SA's counters by destination and SPI; undefined for one not dumped", () => {
    const table = xfrmUsageTable([sa('192.0.2.1', 0xc0000001, 1500, 3), sa('2001:db8::1', 0xc0000002, 700, 2)], []);
    expect(table.sa('192.0.2.1', 0xc0000001)).toEqual({ bytes: 1500, packets: 3 });
    expect(table.sa('2001:DB8:0::1', 0xc0000002)).toEqual({ bytes: 700, packets: 2 });
    expect(table.sa('192.0.2.1', 0xc0000002)).toBeUndefined();
    expect(table.sa('192.0.2.9', 0xc0000001)).toBeUndefined();
  });

  it("each policy's last use (seconds to ms) by direction and selector, IPv4 and IPv6, narrowed to ports or not", () => {
    const v4 = { local: range('198.51.100.0', '198.51.100.255'), remote: range('203.0.113.0', '203.0.113.255') };
    const narrowed = { local: range('198.51.100.1', '198.51.100.1', [80, 80], 6), remote: range('203.0.113.0', '203.0.113.255', [1024, 65535], 6) };
    const v6 = { local: range('2001:DB8:1::', '2001:db8:1::ffff'), remote: range('2001:db8:2::', '2001:db8:2:0:ffff:ffff:ffff:ffff') };
    const table = xfrmUsageTable(
      [],
      [
        dumped(policy('in', v4.local, v4.remote), 1_765_000_005),
        dumped(policy('out', v4.local, v4.remote), 0),
        dumped(policy('fwd', narrowed.local, narrowed.remote), 1_765_000_007),
        dumped(policy('out', v6.local, v6.remote), 1_765_000_009, (a) => a.toLowerCase()),
      ],
    );
    expect(table.policyLastUse?.(policy('in', v4.local, v4.remote))).toBe(1_765_000_005_000);
    // Never used (use_time 0), or not in the dump.
    expect(table.policyLastUse?.(policy('out', v4.local, v4.remote))).toBeUndefined();
    expect(table.policyLastUse?.(policy('fwd', v4.local, v4.remote))).toBeUndefined();
    expect(table.policyLastUse?.(policy('fwd', narrowed.local, narrowed.remote))).toBe(1_765_000_007_000);
    expect(table.policyLastUse?.(policy('in', narrowed.local, narrowed.remote))).toBeUndefined();
    expect(table.policyLastUse?.(policy('out', v6.local, v6.remote))).toBe(1_765_000_009_000);
  });

  it("a socket's own policy (the IKE sockets' bypass, any to any) is not the Child SA policy of the same selector", () => {
    const any = { local: range('0.0.0.0', '255.255.255.255'), remote: range('0.0.0.0', '255.255.255.255') };
    const socketIn = { ...dumped(policy('in', any.local, any.remote), 1_765_000_011), socket: true };
    expect(xfrmUsageTable([], [socketIn]).policyLastUse?.(policy('in', any.local, any.remote))).toBeUndefined();
    const table = xfrmUsageTable([], [dumped(policy('in', any.local, any.remote), 1_765_000_005), socketIn]);
    expect(table.policyLastUse?.(policy('in', any.local, any.remote))).toBe(1_765_000_005_000);
  });
});
