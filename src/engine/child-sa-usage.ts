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

const NOTHING: KernelUsage = { sa: () => undefined, policyLastUse: () => undefined };

/** The usage of each of `children`, in their order; undefined where the kernel knows neither ESP SA. */
export async function readChildSaUsage(kernel: KernelPort, children: readonly ChildSaInKernel[]): Promise<(ChildSaUsage | undefined)[]> {
  const tellsLastUse = kernel.policyLastUse !== undefined || kernel.readUsage !== undefined;
  const policies = tellsLastUse ? children.map((c) => childSaPolicies(c.params, c.placement)) : undefined;
  const table = kernel.readUsage !== undefined ? await kernel.readUsage().catch(() => NOTHING) : await readEach(kernel, children, policies);
  return children.map((c, i) => usageOf(table, c, policies?.[i] ?? []));
}

function usageOf(table: KernelUsage, child: ChildSaInKernel, policies: readonly KernelPolicy[]): ChildSaUsage | undefined {
  // Inbound: to us; outbound: to the peer.
  const inbound = table.sa(child.placement.localAddress, child.params.inboundSpi);
  const outbound = table.sa(child.placement.remoteAddress, child.params.outboundSpi);
  if (inbound === undefined && outbound === undefined) return undefined;
  // strongSwan's "last use" likewise: inbound from the in and fwd policies, outbound from the out ones.
  let lastInAtMs: number | undefined;
  let lastOutAtMs: number | undefined;
  for (const p of policies) {
    const t = table.policyLastUse(p);
    if (t === undefined) continue;
    if (p.direction === 'out') lastOutAtMs = lastOutAtMs === undefined ? t : Math.max(lastOutAtMs, t);
    else lastInAtMs = lastInAtMs === undefined ? t : Math.max(lastInAtMs, t);
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
async function readEach(kernel: KernelPort, children: readonly ChildSaInKernel[], policies: readonly (readonly KernelPolicy[])[] | undefined): Promise<KernelUsage> {
  const sas = new Map<string, SaUsage>();
  const lastUse = new Map<KernelPolicy, number>();
  const saKey = (destination: string, spi: number): string => `${destination}|${spi}`;
  const reads: Promise<void>[] = [];
  const ignore = (): void => undefined;
  const readSa = (destination: string, spi: number): void => {
    reads.push(
      kernel.usage(destination, spi).then((u) => {
        if (u !== undefined) sas.set(saKey(destination, spi), u);
      }, ignore),
    );
  };
  children.forEach((c, i) => {
    readSa(c.placement.localAddress, c.params.inboundSpi);
    readSa(c.placement.remoteAddress, c.params.outboundSpi);
    if (kernel.policyLastUse === undefined) return;
    for (const p of policies?.[i] ?? []) {
      reads.push(
        kernel.policyLastUse(p).then((t) => {
          if (t !== undefined) lastUse.set(p, t);
        }, ignore),
      );
    }
  });
  await Promise.all(reads);
  return { sa: (destination, spi) => sas.get(saKey(destination, spi)), policyLastUse: (p) => lastUse.get(p) };
}
