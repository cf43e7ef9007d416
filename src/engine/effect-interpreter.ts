/**
 * The one effect interpreter: every effect the machines emit (machines/effects.ts) is carried out
 * here, after the step that emitted it, against the engine's ports. Effects with an answer (the
 * kernel, SPI allocation) deliver it to the actor that asked, as an event (`deliver`, the same
 * path timer events take). Everything the machines do passes through this one place.
 */
import type { Effect, EffectAnswer, KernelChange } from '../../machines/effects.js';
import type { EffectPort } from '../../machines/ports.js';
import type { CryptoRegistry } from '../crypto/registry.js';
import { childSaKernelState } from '../ikev2/child-sa-kernel.js';
import type { IkeSaSecurity } from '../ikev2/ike-sa-session.js';
import type { IkeSaKeys } from '../kernel/ikev2-keylog-writer.js';
import { isKernelError } from '../kernel/kernel-error.js';
import type { KernelPort } from '../kernel/kernel-port.js';
import { LogSummarizer } from '../log/log-summarizer.js';
import type { ClockPort, LogPort, NetworkPort, TimerEvent, TimerPort } from '../ports.js';
import { IntegId, espSpiHex, type EncrId } from '../wire/index.js';
import type { CredentialPort, IkeKeylogPort, SaEventSink, SpiAllocator } from './engine-ports.js';

export interface EffectInterpreterPorts {
  readonly network: NetworkPort;
  readonly timers: TimerPort;
  readonly kernel: KernelPort;
  readonly log: LogPort;
  /** The clock of `timers`: windows of summarised log records (src/log/log-summarizer.ts). Default: Date.now. */
  readonly clock?: ClockPort | undefined;
  readonly registry: CryptoRegistry;
  readonly events: SaEventSink;
  readonly keylog?: IkeKeylogPort | undefined;
  readonly spis: SpiAllocator;
  /** Signing and certificate checks; without it (tests without signatures) each is refused. */
  readonly credentials?: CredentialPort | undefined;
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

/** Owner of the timers that end the windows of summarised log records. */
export const LOG_SUMMARY_OWNER = 'log-summary';
const LOG_SUMMARY_EVENT = 'LOG_SUMMARY_WINDOW_END';

/** The interpreter, and what it knows from the kernel effects it carried out. */
export interface EffectInterpreter extends EffectPort {
  /** The Child SA actor whose ESP SA this is (installed through an effect and not deleted since). */
  childSaOf(destination: string, spi: number): string | undefined;
  /** A timer of LOG_SUMMARY_OWNER fired (the engine hands them here, not to an actor). */
  logSummaryTimer(event: TimerEvent): void;
  /** The summaries of every open window now (the engine stops). */
  flushLogSummaries(): void;
}

const NO_CREDENTIALS: CredentialPort = {
  sign: () => Promise.reject(new Error('no credential port: this engine does not sign')),
  checkPeerCertificates: () => Promise.reject(new Error('no credential port: this engine checks no certificates')),
};

export function createEffectInterpreter(ports: EffectInterpreterPorts): EffectInterpreter {
  const { kernel } = ports;
  const credentials = ports.credentials ?? NO_CREDENTIALS;
  // One timer per summary key, named by the key; its event names the key back.
  const summarizer = new LogSummarizer({
    log: ports.log,
    clock: ports.clock ?? { now: () => Date.now() },
    wakeAt: (key, atMs) => ports.timers.arm(LOG_SUMMARY_OWNER, key, atMs, { type: LOG_SUMMARY_EVENT, key } as TimerEvent),
  });
  /** "destination|spi" of each installed ESP SA → its Child SA actor, for the kernel's expires. */
  const childSas = new Map<string, string>();
  const saKey = (destination: string, spi: number): string => `${destination}|${spi}`;
  const ignoreGone = (e: unknown): void => {
    if (!isKernelError(e, 'not-found')) throw e;
  };
  /**
   * Outbound SA installs in flight, by reqid and peer: a Child SA deleted meanwhile (the SA a
   * rekey replaces) leaves after the new outbound SA is in, so the kernel always has one to send
   * on (make before break, RFC 7296 2.8).
   */
  const outboundInstalls = new Map<string, Promise<void>>();
  const outboundKey = (placement: { reqid: number; remoteAddress: string }): string => `${placement.reqid}|${placement.remoteAddress}`;
  const answerKernel = (replyTo: string, op: KernelChange, work: Promise<void>): void => {
    work.then(
      () => ports.deliver(replyTo, { type: 'KERNEL_DONE', op }),
      (e: unknown) => ports.deliver(replyTo, { type: 'KERNEL_FAILED', op, reason: reasonOf(e) }),
    );
  };

  return {
    childSaOf: (destination, spi) => childSas.get(saKey(destination, spi)),
    logSummaryTimer: (event) => {
      const key = (event as { key?: unknown }).key;
      if (event.type === LOG_SUMMARY_EVENT && typeof key === 'string') summarizer.windowEnded(key);
    },
    flushLogSummaries: () => {
      summarizer.flush();
      ports.timers.cancelAll(LOG_SUMMARY_OWNER);
    },
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
          // Both ESP SAs (or the inbound one alone), then the policies (one already there belongs
          // to a sibling SA: shared).
          const state = childSaKernelState(effect.params, effect.placement, ports.registry);
          const sas = effect.withOutbound ? [state.inbound, state.outbound] : [state.inbound];
          for (const sa of sas) childSas.set(saKey(sa.destination, sa.spi), effect.replyTo);
          answerKernel(
            effect.replyTo,
            'install-child-sa',
            (async () => {
              for (const sa of sas) await kernel.installSa(sa);
              for (const policy of state.policies) {
                await kernel.installPolicy(policy).catch((e: unknown) => {
                  if (!isKernelError(e, 'exists')) throw e;
                });
              }
            })(),
          );
          return;
        }
        case 'install-outbound-sa': {
          const state = childSaKernelState(effect.params, effect.placement, ports.registry);
          childSas.set(saKey(state.outbound.destination, state.outbound.spi), effect.replyTo);
          const key = outboundKey(effect.placement);
          const work = (async () => kernel.installSa(state.outbound))();
          const settled = work.then(
            () => undefined,
            () => undefined,
          );
          outboundInstalls.set(key, settled);
          void settled.then(() => {
            if (outboundInstalls.get(key) === settled) outboundInstalls.delete(key);
          });
          answerKernel(effect.replyTo, 'install-outbound-sa', work);
          return;
        }
        case 'delete-child-sa': {
          // Its ESP SAs and, unless a sibling still uses them, the policies; "already gone" is fine.
          // A new outbound SA of the same reqid still being installed goes in first.
          const state = childSaKernelState(effect.params, effect.placement, ports.registry);
          const sas = effect.withOutbound ? [state.inbound, state.outbound] : [state.inbound];
          for (const sa of sas) childSas.delete(saKey(sa.destination, sa.spi));
          const before = outboundInstalls.get(outboundKey(effect.placement));
          answerKernel(
            effect.replyTo,
            'delete-child-sa',
            (async () => {
              if (before !== undefined) await before;
              for (const sa of sas) await kernel.deleteSa(sa.destination, sa.spi).catch(ignoreGone);
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
        case 'sign':
          credentials.sign(effect.connection, effect.scheme, effect.octets).then(
            (signature) => ports.deliver(effect.replyTo, { type: 'SIGNED', signature }),
            (e: unknown) => ports.deliver(effect.replyTo, { type: 'SIGNING_FAILED', reason: reasonOf(e) }),
          );
          return;
        case 'check-peer-certificates':
          credentials.checkPeerCertificates(effect.connection, effect.certificates, effect.peerId, (ports.clock ?? { now: () => Date.now() }).now()).then(
            (verdict) => ports.deliver(effect.replyTo, { type: 'PEER_CERTIFICATES_CHECKED', verdict }),
            (e: unknown) => ports.deliver(effect.replyTo, { type: 'PEER_CERTIFICATES_CHECKED', verdict: { ok: false, reason: `the check failed: ${reasonOf(e)}` } }),
          );
          return;
        case 'report':
          ports.events.report(effect.event);
          return;
        case 'keylog':
          if (ports.keylog !== undefined) void ports.keylog.ikeSaEstablished(keylogEntry(effect.security));
          return;
        case 'log':
          summarizer.write(effect);
          return;
      }
    },
  };
}
