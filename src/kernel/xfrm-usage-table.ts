/**
 * What two XFRM dumps say of usage (XFRM_MSG_GETSA and XFRM_MSG_GETPOLICY with NLM_F_DUMP), as
 * KernelUsage answers it: each SA's counters by destination and SPI, each policy's last use by
 * direction and selector, which is how the kernel tells SAs and policies apart. A status of
 * 100 000 Child SAs reads the kernel in these two dumps, not 500 000 requests. Pure.
 */
import { canonicalIp } from '../wire/index.js';
import type { KernelPolicy, KernelUsage, SaUsage } from './kernel-port.js';
import type { XfrmPolicyState, XfrmSaState, XfrmSelectorSpec } from './xfrm/index.js';
import { policySpec } from './xfrm-specs.js';

/** An address as the kernel's dump writes it (formatIp), whatever text the caller had. */
const canonical = (address: string): string => canonicalIp(address) ?? address;

const saKey = (destination: string, spi: number): string => `${destination}|${spi}`;

/** A policy's identity to the kernel: direction and selector (its defaults applied, as writeSelector does). */
function selectorKey(direction: string, s: XfrmSelectorSpec): string {
  const sourcePort = s.sourcePort ?? 0;
  const destinationPort = s.destinationPort ?? 0;
  const sourceMask = s.sourcePortMask ?? (sourcePort === 0 ? 0 : 0xffff);
  const destinationMask = s.destinationPortMask ?? (destinationPort === 0 ? 0 : 0xffff);
  return `${direction} ${s.family} ${canonical(s.source)}/${s.sourcePrefixLength} ${canonical(s.destination)}/${s.destinationPrefixLength} ${sourcePort}/${sourceMask} ${destinationPort}/${destinationMask} ${s.ipProtocol ?? 0}`;
}

export function xfrmUsageTable(sas: Iterable<XfrmSaState>, policies: Iterable<XfrmPolicyState>): KernelUsage {
  const usage = new Map<string, SaUsage>();
  for (const sa of sas) usage.set(saKey(sa.destination, sa.spi), { bytes: sa.usage.bytes, packets: sa.usage.packets });
  const lastUse = new Map<string, number>();
  for (const p of policies) {
    // A socket's own policy (the IKE sockets' bypass) is in the dump too: its selector, any to
    // any, would stand for a Child SA's 0.0.0.0/0 policy of the same direction.
    if (p.socket) continue;
    // use_time 0: not used since it was added.
    if (p.usage.useTime !== 0) lastUse.set(selectorKey(p.direction, p.selector), p.usage.useTime * 1000);
  }
  return {
    sa: (destination, spi) => usage.get(saKey(destination, spi)) ?? usage.get(saKey(canonical(destination), spi)),
    policyLastUse: (policy: KernelPolicy) => {
      if (lastUse.size === 0) return undefined;
      const spec = policySpec(policy);
      return lastUse.get(selectorKey(spec.direction, spec.selector));
    },
  };
}
