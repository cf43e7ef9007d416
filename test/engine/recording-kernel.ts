/** A KernelPort decorator that records every call in order (for make-before-break checks). */
import type { KernelPolicy, KernelPort, KernelSa, SaUsage } from '../../src/kernel/kernel-port.js';

export type KernelCall =
  | { readonly op: 'installSa'; readonly spi: number; readonly direction: 'in' | 'out' }
  | { readonly op: 'deleteSa'; readonly spi: number }
  | { readonly op: 'installPolicy' | 'deletePolicy'; readonly direction: KernelPolicy['direction'] };

export function recordingKernel(inner: KernelPort, calls: KernelCall[]): KernelPort {
  return {
    installSa: (sa: KernelSa) => {
      calls.push({ op: 'installSa', spi: sa.spi, direction: sa.direction });
      return inner.installSa(sa);
    },
    deleteSa: (destination: string, spi: number) => {
      calls.push({ op: 'deleteSa', spi });
      return inner.deleteSa(destination, spi);
    },
    installPolicy: (p: KernelPolicy) => {
      calls.push({ op: 'installPolicy', direction: p.direction });
      return inner.installPolicy(p);
    },
    deletePolicy: (p: KernelPolicy) => {
      calls.push({ op: 'deletePolicy', direction: p.direction });
      return inner.deletePolicy(p);
    },
    usage: (destination: string, spi: number): Promise<SaUsage | undefined> => inner.usage(destination, spi),
  };
}
