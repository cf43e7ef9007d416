/**
 * The one effect interpreter: every effect the machines emit (machines/effects.ts) is carried out
 * here, after the step that emitted it, against the engine's ports. Effects with an answer (the
 * kernel, SPI allocation) deliver it to the actor that asked, as an event (`deliver`, the same
 * path timer events take). Everything the machines do passes through this one place.
 */
import type { Effect, EffectAnswer } from '../../machines/effects.js';
import type { EffectPort } from '../../machines/ports.js';
import type { CryptoRegistry } from '../crypto/registry.js';
import { childSaKernelState } from '../ikev2/child-sa-kernel.js';
import type { IkeSaSecurity } from '../ikev2/ike-sa-session.js';
import type { IkeSaKeys } from '../kernel/ikev2-keylog-writer.js';
import { isKernelError } from '../kernel/kernel-error.js';
import type { KernelPort } from '../kernel/kernel-port.js';
import type { LogPort, NetworkPort, TimerPort } from '../ports.js';
import { IntegId, espSpiHex, type EncrId } from '../wire/index.js';
import type { IkeKeylogPort, SaEventSink, SpiAllocator } from './engine-ports.js';

export interface EffectInterpreterPorts {
  readonly network: NetworkPort;
  readonly timers: TimerPort;
  readonly kernel: KernelPort;
  readonly log: LogPort;
  readonly registry: CryptoRegistry;
  readonly events: SaEventSink;
  readonly keylog?: IkeKeylogPort | undefined;
  readonly spis: SpiAllocator;
  /** Hands an effect's answer to the actor that asked for it (gone actors are not told). */
  readonly deliver: (owner: string, answer: EffectAnswer) => void;
}

const reasonOf = (e: unknown): string => String((e as Error)?.message ?? e);

/** An IKE SA as Wireshark's ikev2_decryption_table wants it. */
function keylogEntry(sa: IkeSaSecurity): IkeSaKeys {
  const t = sa.transforms;
  return {
    SPIi: sa.spiI,
    SPIr: sa.spiR,
    SK_ei: sa.keys.SK_ei,
    SK_er: sa.keys.SK_er,
    SK_ai: sa.keys.SK_ai,
    SK_ar: sa.keys.SK_ar,
    encryption: { id: t.encr as EncrId, ...(t.encrKeyLengthBits === undefined ? {} : { keyLengthBits: t.encrKeyLengthBits }) },
    integrity: (t.integ ?? IntegId.NONE) as IntegId,
  };
}

/** The interpreter, and what it knows from the kernel effects it carried out. */
export interface EffectInterpreter extends EffectPort {
  /** The Child SA actor whose ESP SA this is (installed through an effect and not deleted since). */
  childSaOf(destination: string, spi: number): string | undefined;
}

export function createEffectInterpreter(ports: EffectInterpreterPorts): EffectInterpreter {
  const { kernel } = ports;
  /** "destination|spi" of each installed ESP SA → its Child SA actor, for the kernel's expires. */
  const childSas = new Map<string, string>();
  const saKey = (destination: string, spi: number): string => `${destination}|${spi}`;
  const ignoreGone = (e: unknown): void => {
    if (!isKernelError(e, 'not-found')) throw e;
  };
  const answerKernel = (replyTo: string, op: 'install-child-sa' | 'delete-child-sa', work: Promise<void>): void => {
    work.then(
      () => ports.deliver(replyTo, { type: 'KERNEL_DONE', op }),
      (e: unknown) => ports.deliver(replyTo, { type: 'KERNEL_FAILED', op, reason: reasonOf(e) }),
    );
  };

  return {
    childSaOf: (destination, spi) => childSas.get(saKey(destination, spi)),
    perform(effect: Effect): void {
      switch (effect.kind) {
        case 'send':
          for (const bytes of effect.datagrams) ports.network.send({ local: effect.local, remote: effect.remote, bytes });
          return;
        case 'arm-timer':
          ports.timers.arm(effect.owner, effect.name, effect.atMs, effect.event);
          return;
        case 'cancel-timer':
          ports.timers.cancel(effect.owner, effect.name);
          return;
        case 'cancel-timers':
          ports.timers.cancelAll(effect.owner);
          return;
        case 'allocate-spi': {
          // Answered after this step, never inside it: an actor must not process an event nested
          // in one of its own actions.
          const { replyTo, purpose } = effect;
          Promise.resolve()
            .then(() => ports.spis.allocate({ source: effect.remote, destination: effect.local }))
            .then(
              (spi) => ports.deliver(replyTo, { type: 'SPI_ALLOCATED', spi, purpose }),
              (e: unknown) => ports.deliver(replyTo, { type: 'SPI_ALLOCATION_FAILED', purpose, reason: reasonOf(e) }),
            );
          return;
        }
        case 'release-spi':
          void Promise.resolve(ports.spis.release(effect.spi, effect.local)).catch((e: unknown) =>
            ports.log.warn({ spi: espSpiHex(effect.spi), reason: reasonOf(e) }, 'an unused inbound SPI could not be released'),
          );
          return;
        case 'install-child-sa': {
          // Both ESP SAs, then the policies (one already there belongs to a sibling SA: shared).
          const state = childSaKernelState(effect.params, effect.placement, ports.registry);
          for (const sa of [state.inbound, state.outbound]) childSas.set(saKey(sa.destination, sa.spi), effect.replyTo);
          answerKernel(
            effect.replyTo,
            'install-child-sa',
            (async () => {
              await kernel.installSa(state.inbound);
              await kernel.installSa(state.outbound);
              for (const policy of state.policies) {
                await kernel.installPolicy(policy).catch((e: unknown) => {
                  if (!isKernelError(e, 'exists')) throw e;
                });
              }
            })(),
          );
          return;
        }
        case 'delete-child-sa': {
          // Both ESP SAs and, unless a sibling still uses them, the policies; "already gone" is fine.
          const state = childSaKernelState(effect.params, effect.placement, ports.registry);
          for (const sa of [state.inbound, state.outbound]) childSas.delete(saKey(sa.destination, sa.spi));
          answerKernel(
            effect.replyTo,
            'delete-child-sa',
            (async () => {
              await kernel.deleteSa(state.inbound.destination, state.inbound.spi).catch(ignoreGone);
              await kernel.deleteSa(state.outbound.destination, state.outbound.spi).catch(ignoreGone);
              if (!effect.keepPolicies) for (const p of state.policies) await kernel.deletePolicy(p).catch(ignoreGone);
            })(),
          );
          return;
        }
        case 'read-child-sa-usage': {
          const state = childSaKernelState(effect.params, effect.placement, ports.registry);
          Promise.all([kernel.usage(state.inbound.destination, state.inbound.spi), kernel.usage(state.outbound.destination, state.outbound.spi)]).then(
            ([inbound, outbound]) => ports.deliver(effect.replyTo, { type: 'USAGE', bytes: Math.max(inbound?.bytes ?? 0, outbound?.bytes ?? 0) }),
            () => ports.deliver(effect.replyTo, { type: 'USAGE', bytes: undefined }),
          );
          return;
        }
        case 'report':
          ports.events.report(effect.event);
          return;
        case 'keylog':
          if (ports.keylog !== undefined) void ports.keylog.ikeSaEstablished(keylogEntry(effect.security));
          return;
        case 'log':
          ports.log.child(effect.bindings)[effect.level](effect.fields, effect.message);
          return;
      }
    },
  };
}
