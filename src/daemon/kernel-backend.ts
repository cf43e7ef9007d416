/**
 * The daemon's kernel backend, as `daemon.kernel` names it:
 *
 * - `xfrm`: the Linux kernel's IPsec (XfrmKernel over NETLINK_XFRM), which protects traffic.
 *   Opening it checks CAP_NET_ADMIN (a daemon without it refuses to start, saying so); then what
 *   a killed ikekm left (SAs and policies with ikekm's reqids, kernel-port.ts IKEKM_REQIDS) is
 *   removed, so `start: on-load` connections come back on a clean kernel. The IKE sockets are
 *   then exempted from IPsec and the NAT-T socket takes ESP-in-UDP (RFC 3948) into the kernel
 *   (`protectSockets`). At close the same sweep runs once more: nothing of ikekm's outlives it.
 *   One ikekm per network namespace: the reqids are ikekm's, not one daemon's.
 * - `memory`: SAs and policies kept in the process (MemoryKernel), for the demo and tests; it
 *   needs no privilege and carries no traffic.
 */
import { isKernelError, KernelError } from '../kernel/kernel-error.js';
import { isIkekmReqid, type TrappingKernelPort } from '../kernel/kernel-port.js';
import { MemoryKernel } from '../kernel/memory-kernel.js';
import { XfrmKernel } from '../kernel/xfrm-kernel.js';
import type { KernelBackendName } from '../config/daemon-settings.js';
import type { LogPort } from '../ports.js';

/** One of the transport's bound sockets (UdpTransport.boundSockets). */
export interface IkeSocket {
  readonly role: 'ike' | 'natt';
  readonly family: 'IPv4' | 'IPv6';
  readonly address: string;
  readonly port: number;
}

export interface KernelBackend {
  readonly name: KernelBackendName;
  /** SAs, policies, traps and acquires (the key-log wrapper goes around it, runtime-ports.ts). */
  readonly kernel: TrappingKernelPort;
  /** The memory backend itself (tests drive traffic and acquires through it); undefined on xfrm. */
  readonly memory: MemoryKernel | undefined;
  /** IKE must not be caught by a tunnel policy, and ESP-in-UDP on NAT-T belongs to the kernel. */
  protectSockets(sockets: readonly IkeSocket[]): void;
  /** Removes whatever of ikekm's is still in the kernel and releases the backend. */
  close(): void;
}

/** KernelError('permission') with a message fit for the one line the daemon prints when it cannot start. */
export function permissionMessage(error: KernelError): string {
  return `daemon.kernel: xfrm needs CAP_NET_ADMIN, which this process lacks: run ikekm as root or grant it the capability (packaging/ikekm.service does), or set daemon.kernel: memory, which protects no traffic (the kernel said: ${error.message})`;
}

export function openKernelBackend(name: KernelBackendName, log: LogPort): KernelBackend {
  if (name === 'memory') {
    const memory = new MemoryKernel();
    return {
      name,
      kernel: memory,
      memory,
      protectSockets: () => undefined,
      close: () => {
        const left = memory.removeAll();
        if (left.sas + left.policies + left.traps > 0) log.info({ kernel: 'memory', removedSas: left.sas, removedPolicies: left.policies + left.traps }, 'memory kernel closed; the SAs and policies still in it removed');
      },
    };
  }
  let xfrm: XfrmKernel;
  try {
    xfrm = XfrmKernel.open({ ownsReqid: isIkekmReqid });
  } catch (error) {
    if (isKernelError(error, 'permission')) throw new KernelError('permission', permissionMessage(error), error.errno);
    throw error;
  }
  try {
    const removed = xfrm.removeLeftovers();
    log.info({ kernel: 'xfrm', removedSas: removed.sas, removedPolicies: removed.policies }, 'XFRM kernel opened; SAs and policies a previous ikekm left removed');
  } catch (error) {
    xfrm.close();
    throw error;
  }
  return {
    name,
    kernel: xfrm,
    memory: undefined,
    protectSockets(sockets) {
      for (const socket of sockets) {
        xfrm.protectIkeSocket(socket);
        log.debug({ role: socket.role, address: socket.address, port: socket.port, espInUdp: socket.role === 'natt' }, 'IKE socket bypasses IPsec');
      }
    },
    close() {
      try {
        const left = xfrm.removeLeftovers();
        // The SAs still up at stop (their peers did not answer the Delete in time) are left to
        // this sweep: two dumps and a delete each, not a close of each SA (IkeEngine.stop).
        if (left.sas + left.policies > 0) log.info({ kernel: 'xfrm', removedSas: left.sas, removedPolicies: left.policies }, 'XFRM kernel closed; the SAs and policies of ikekm still in it removed');
      } catch (error) {
        log.error({ kernel: 'xfrm', reason: (error as Error).message }, 'could not check the kernel for what ikekm left at stop');
      } finally {
        xfrm.close();
      }
    },
  };
}
