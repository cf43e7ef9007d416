/**
 * The kernel's counters and times of last use for the Child SAs of a status
 * (IkeEngine.statusWithUsage): in one read of the whole kernel when the backend offers it
 * (KernelPort.readUsage), else one call per ESP SA and policy, all started at once and awaited
 * together. Either way each Child SA's usage is looked up afterwards, without a promise of its
 * own: at 100 000 Child SAs the promises were most of the time of a status.
 */
import type { ChildSaParams } from '../ikev2/exchanges/child-sa-negotiation.js';
import { childSaPolicies, type ChildSaPlacement } from '../ikev2/child-sa-kernel.js';
import type { KernelPolicy, KernelPort, KernelUsage, SaUsage } from '../kernel/kernel-port.js';

/** Octets and packets through one Child SA, both directions, as the kernel counts them. */
export interface ChildSaUsage {
  readonly bytesIn: number;
  readonly packetsIn: number;
  readonly bytesOut: number;
  readonly packetsOut: number;
  /**
   * When traffic last used the Child SA's inbound policies (in and fwd) and its outbound ones, in
   * ms since the epoch (KernelPort.policyLastUse, whole seconds); undefined when never, or with a
   * kernel that does not tell. The kernel keeps this per policy, so Child SAs with the same
   * selectors (a rekey's old and new SA) show the same times.
   */
  readonly lastInAtMs: number | undefined;
  readonly lastOutAtMs: number | undefined;
}

/** Where a Child SA lives in the kernel: its SPIs, selectors and placement. */
export interface ChildSaInKernel {
  readonly params: Pick<ChildSaParams, 'inboundSpi' | 'outboundSpi' | 'localTs' | 'remoteTs' | 'mode'>;
  readonly placement: ChildSaPlacement;
}

const NOTHING: KernelUsage = { sa: () => undefined };

/**
 * What the kernel says of the Child SAs' ESP SAs and policies now: with KernelPort.readUsage
 * everything at once (`children` are not needed), else each of `children`'s SAs and policies.
 * A failed read is taken as "not known"; a failed whole read goes to `failed` as well, since it
 * blanks every Child SA's usage at once and would otherwise look like a quiet tunnel. Look each
 * Child SA up with `childSaUsage`.
 */
export async function readUsageTable(kernel: KernelPort, children: readonly ChildSaInKernel[], failed: (error: unknown) => void = () => undefined): Promise<KernelUsage> {
  if (kernel.readUsage !== undefined) {
    return kernel.readUsage().catch((error: unknown) => {
      failed(error);
      return NOTHING;
    });
  }
  return readEach(kernel, children);
}

/** One Child SA's usage as `table` has it; undefined where the kernel knows neither ESP SA. */
export function childSaUsage(table: KernelUsage, child: ChildSaInKernel): ChildSaUsage | undefined {
  // Inbound: to us; outbound: to the peer.
  const inbound = table.sa(child.placement.localAddress, child.params.inboundSpi);
  const outbound = table.sa(child.placement.remoteAddress, child.params.outboundSpi);
  if (inbound === undefined && outbound === undefined) return undefined;
  // strongSwan's "last use" likewise: inbound from the in and fwd policies, outbound from the out
  // ones. No policy has one (the usual answer of the memory kernel): none to work out.
  let lastInAtMs: number | undefined;
  let lastOutAtMs: number | undefined;
  if (table.policyLastUse !== undefined) {
    for (const p of childSaPolicies(child.params, child.placement)) {
      const t = table.policyLastUse(p);
      if (t === undefined) continue;
      if (p.direction === 'out') lastOutAtMs = lastOutAtMs === undefined ? t : Math.max(lastOutAtMs, t);
      else lastInAtMs = lastInAtMs === undefined ? t : Math.max(lastInAtMs, t);
    }
  }
  return {
    bytesIn: inbound?.bytes ?? 0,
    packetsIn: inbound?.packets ?? 0,
    bytesOut: outbound?.bytes ?? 0,
    packetsOut: outbound?.packets ?? 0,
    lastInAtMs,
    lastOutAtMs,
  };
}

/** Without KernelPort.readUsage: every read started at once, a failed one taken as "not known". */
async function readEach(kernel: KernelPort, children: readonly ChildSaInKernel[]): Promise<KernelUsage> {
  const sas = new Map<string, SaUsage>();
  const lastUse = new Map<string, number>();
  const saKey = (destination: string, spi: number): string => `${destination}|${spi}`;
  // The policies are made again for the lookup: keyed by what makes them one policy to the kernel.
  const policyKey = (p: KernelPolicy): string => JSON.stringify([p.direction, p.local, p.remote]);
  const reads: Promise<void>[] = [];
  const ignore = (): void => undefined;
  const readSa = (destination: string, spi: number): void => {
    reads.push(
      kernel.usage(destination, spi).then((u) => {
        if (u !== undefined) sas.set(saKey(destination, spi), u);
      }, ignore),
    );
  };
  for (const c of children) {
    readSa(c.placement.localAddress, c.params.inboundSpi);
    readSa(c.placement.remoteAddress, c.params.outboundSpi);
    if (kernel.policyLastUse === undefined) continue;
    for (const p of childSaPolicies(c.params, c.placement)) {
      reads.push(
        kernel.policyLastUse(p).then((t) => {
          if (t !== undefined) lastUse.set(policyKey(p), t);
        }, ignore),
      );
    }
  }
  await Promise.all(reads);
  return {
    sa: (destination, spi) => sas.get(saKey(destination, spi)),
    ...(kernel.policyLastUse === undefined ? {} : { policyLastUse: (p: KernelPolicy) => lastUse.get(policyKey(p)) }),
  };
}
