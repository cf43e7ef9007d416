/**
 * The packet an on-demand trap caught (the kernel's acquire, kernel-port.ts KernelPacket) as the
 * selector pair the initiator offers first in TSi/TSr (RFC 7296 2.9): one address each, the
 * packet's protocol, and its ports. For ICMP and ICMPv6 the "port" is Type << 8 | Code (3.13.1)
 * on both sides, as strongSwan offers it.
 */
import type { TriggerSelectors } from '../ikev2/exchanges/connection-policy.js';
import type { KernelPacket } from '../kernel/kernel-port.js';
import { selectorFromCidr, type Selector } from '../policy/traffic-selectors.js';

const ICMP = 1;
const ICMPV6 = 58;

/** undefined when the packet's addresses are not one family of IP literals. */
export function triggerSelectors(packet: KernelPacket): TriggerSelectors | undefined {
  const icmp = packet.ipProtocol === ICMP || packet.ipProtocol === ICMPV6;
  const selector = (address: string, port: number | undefined): Selector | undefined => {
    const r = selectorFromCidr(address, { ipProtocol: packet.ipProtocol, ...(port === undefined ? {} : { port }) });
    return r.ok ? r.value : undefined;
  };
  const local = selector(packet.source, packet.sourcePort);
  const remote = selector(packet.destination, icmp ? packet.sourcePort : packet.destinationPort);
  if (local === undefined || remote === undefined || local.family !== remote.family) return undefined;
  return { local, remote };
}
