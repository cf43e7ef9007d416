/**
 * Phase 2: one Child SA (RFC 7296 1.3, 2.8), from the moment its keys exist until its ESP SAs are
 * gone from the kernel.
 *
 *   installing ──installed──► installed ──REKEYING──► rekeying ──REKEYED──► rekeyed
 *        │                     │   ▲                      │                   │
 *        └─failed              │   └──REKEY_ABORTED───────┘                   │
 *                              └──DELETE / HARD_EXPIRE──► deleting ◄──DELETE──┘ ──► deleted (stopped by the IKE SA)
 *
 * The IKE SA actor negotiates (it owns the Message IDs); this machine owns the kernel state and
 * the lifetimes: the soft lifetime (with jitter) asks the IKE SA for a rekey, the hard lifetime
 * deletes. Byte lifetimes poll the kernel's counters. A rekeyed SA stays installed (make before
 * break, 2.8) until the IKE SA has deleted it at the peer and tells it DELETE.
 *
 * Pure: kernel calls are promise actors built from the injected KernelPort, timers go through the
 * TimerPort with absolute deadlines kept in context (so a restored snapshot can re-arm them).
 */
import { assign, fromPromise, sendParent, setup } from 'xstate';
import type { Lifetime } from '../../src/config/model.js';
import type { EnginePorts } from '../../src/engine/engine-ports.js';
import { spiBuffer, type ChildSaParams } from '../../src/ikev2/exchanges/child-sa-negotiation.js';
import { childSaKernelState, type ChildSaKernelState, type ChildSaPlacement } from '../../src/ikev2/child-sa-kernel.js';
import { isKernelError } from '../../src/kernel/kernel-error.js';
import { byteExpiry, lifetimeDeadlines, type LifetimeDeadlines } from '../../src/timers/lifetime.js';

/** Bindings every log record of an SA carries (hex strings only). */
export interface SaLogBindings {
  readonly connection: string;
  readonly spiI: string;
  readonly spiR: string;
}

export interface ChildSaInput {
  /** System id: the owner of this SA's timers. */
  readonly id: string;
  readonly ikeSaId: string;
  readonly connection: string;
  readonly params: ChildSaParams;
  readonly placement: ChildSaPlacement;
  readonly lifetime: Lifetime;
  /** Inbound SPI of the Child SA this one replaces (CREATE_CHILD_SA with REKEY_SA). */
  readonly rekeyOf?: number | undefined;
  /** Moved from an IKE SA that was rekeyed (2.18): already installed, deadlines kept. */
  readonly adopted?: { readonly deadlines: LifetimeDeadlines; readonly installedAtMs: number; readonly rekeyed: boolean } | undefined;
  readonly log: SaLogBindings;
  readonly byteLifetimePollMs: number;
}

export interface ChildSaContext extends ChildSaInput {
  readonly deadlines: LifetimeDeadlines | undefined;
  readonly installedAtMs: number | undefined;
  readonly deleteReason: string | undefined;
  readonly keepPolicies: boolean;
  /** Set once the IKE SA replaced this SA (rekey) or chose it as the redundant one (2.8.1). */
  readonly replaced: boolean;
}

export type ChildSaEvent =
  | { type: 'SOFT_EXPIRE' }
  | { type: 'HARD_EXPIRE' }
  | { type: 'USAGE_POLL' }
  /** The IKE SA sent the CREATE_CHILD_SA that rekeys this SA. */
  | { type: 'REKEYING' }
  /** The rekey failed or was abandoned; the SA carries on and retries later. */
  | { type: 'REKEY_ABORTED'; retryAtMs: number }
  /** The new SA is installed: this one only waits for its delete. */
  | { type: 'REKEYED' }
  | { type: 'DELETE'; reason: string; keepPolicies: boolean };

/** What a Child SA tells its IKE SA. */
export type ChildSaReport =
  | { type: 'CHILD_SA_INSTALLED'; inboundSpi: number; deadlines: LifetimeDeadlines; installedAtMs: number }
  | { type: 'CHILD_SA_INSTALL_FAILED'; inboundSpi: number; reason: string }
  | { type: 'CHILD_SA_REKEY_DUE'; inboundSpi: number }
  | { type: 'CHILD_SA_EXPIRED'; inboundSpi: number }
  | { type: 'CHILD_SA_DELETED'; inboundSpi: number };

export const spiText = (spi: number): string => spiBuffer(spi).toString('hex');

const TIMER_REKEY = 'rekey';
const TIMER_EXPIRE = 'expire';
const TIMER_USAGE = 'usage';

export function createChildSaLogic(ports: EnginePorts) {
  const log = (ctx: ChildSaContext) =>
    ports.log.child({ ...ctx.log, childSa: spiText(ctx.params.inboundSpi), peerSpi: spiText(ctx.params.outboundSpi) });

  const kernelState = (ctx: ChildSaContext): ChildSaKernelState => childSaKernelState(ctx.params, ctx.placement, ports.registry);

  const report = (ctx: ChildSaContext, kind: 'child-sa-up' | 'child-sa-down', reason?: string): void => {
    const base = {
      connection: ctx.connection,
      ikeSa: ctx.ikeSaId,
      inboundSpi: spiText(ctx.params.inboundSpi),
      outboundSpi: spiText(ctx.params.outboundSpi),
      atMs: ports.clock.now(),
    };
    if (kind === 'child-sa-up') {
      ports.events.report({
        kind,
        ...base,
        ...(ctx.rekeyOf === undefined ? {} : { rekeyOf: spiText(ctx.rekeyOf) }),
        rekeyAtMs: ctx.deadlines?.rekeyAtMs ?? 0,
        expireAtMs: ctx.deadlines?.expireAtMs ?? 0,
      });
    } else {
      ports.events.report({ kind, ...base, reason: reason ?? 'deleted' });
    }
  };

  return setup({
    types: {
      context: {} as ChildSaContext,
      events: {} as ChildSaEvent,
      input: {} as ChildSaInput,
    },
    actors: {
      /** Both ESP SAs, then the policies (a policy already there belongs to a sibling SA: shared). */
      installChildSa: fromPromise<void, ChildSaKernelState>(async ({ input }) => {
        await ports.kernel.installSa(input.inbound);
        await ports.kernel.installSa(input.outbound);
        for (const policy of input.policies) {
          try {
            await ports.kernel.installPolicy(policy);
          } catch (e) {
            if (!isKernelError(e, 'exists')) throw e;
          }
        }
      }),
      /** Both ESP SAs and, unless a sibling still uses them, the policies. "Already gone" is fine. */
      deleteChildSa: fromPromise<void, { state: ChildSaKernelState; keepPolicies: boolean }>(async ({ input }) => {
        const ignoreGone = (e: unknown): void => {
          if (!isKernelError(e, 'not-found')) throw e;
        };
        await ports.kernel.deleteSa(input.state.inbound.destination, input.state.inbound.spi).catch(ignoreGone);
        await ports.kernel.deleteSa(input.state.outbound.destination, input.state.outbound.spi).catch(ignoreGone);
        if (!input.keepPolicies) for (const p of input.state.policies) await ports.kernel.deletePolicy(p).catch(ignoreGone);
      }),
      /** Bytes through the busier direction (RFC 7296 2.8: lifetimes apply per SA). */
      readUsage: fromPromise<number, ChildSaKernelState>(async ({ input }) => {
        const inbound = await ports.kernel.usage(input.inbound.destination, input.inbound.spi);
        const outbound = await ports.kernel.usage(input.outbound.destination, input.outbound.spi);
        return Math.max(inbound?.bytes ?? 0, outbound?.bytes ?? 0);
      }),
    },
    guards: {
      isAdopted: ({ context }) => context.adopted !== undefined,
      adoptedRekeyed: ({ context }) => context.adopted?.rekeyed === true,
    },
    actions: {
      startLifetime: assign(({ context }) => {
        const now = ports.clock.now();
        const lt = context.lifetime;
        const deadlines =
          context.deadlines ??
          lifetimeDeadlines({ rekeySeconds: lt.rekeySeconds, lifetimeSeconds: lt.lifetimeSeconds, jitterSeconds: lt.jitterSeconds }, now, ports.random);
        return { deadlines, installedAtMs: context.installedAtMs ?? now };
      }),
      armTimers: ({ context }) => {
        const d = context.deadlines;
        if (d === undefined) return;
        if (!context.replaced) ports.timers.arm(context.id, TIMER_REKEY, d.rekeyAtMs, { type: 'SOFT_EXPIRE' });
        ports.timers.arm(context.id, TIMER_EXPIRE, d.expireAtMs, { type: 'HARD_EXPIRE' });
        if (context.lifetime.rekeyBytes !== undefined || context.lifetime.lifetimeBytes !== undefined) {
          ports.timers.arm(context.id, TIMER_USAGE, ports.clock.now() + context.byteLifetimePollMs, { type: 'USAGE_POLL' });
        }
      },
      cancelRekeyTimer: ({ context }) => ports.timers.cancel(context.id, TIMER_REKEY),
      cancelTimers: ({ context }) => ports.timers.cancelAll(context.id),
      markReplaced: assign({ replaced: true }),
      reportInstalled: sendParent(({ context }): ChildSaReport => ({
        type: 'CHILD_SA_INSTALLED',
        inboundSpi: context.params.inboundSpi,
        deadlines: context.deadlines as LifetimeDeadlines,
        installedAtMs: context.installedAtMs ?? ports.clock.now(),
      })),
      reportRekeyDue: sendParent(({ context }): ChildSaReport => ({ type: 'CHILD_SA_REKEY_DUE', inboundSpi: context.params.inboundSpi })),
      reportExpired: sendParent(({ context }): ChildSaReport => ({ type: 'CHILD_SA_EXPIRED', inboundSpi: context.params.inboundSpi })),
      reportDeleted: sendParent(({ context }): ChildSaReport => ({ type: 'CHILD_SA_DELETED', inboundSpi: context.params.inboundSpi })),
      logInstalled: ({ context }) => {
        if (context.adopted !== undefined) return;
        log(context).info(
          {
            mode: context.params.mode,
            localTs: context.params.localTs.map((s) => `${s.startAddress}-${s.endAddress}`),
            remoteTs: context.params.remoteTs.map((s) => `${s.startAddress}-${s.endAddress}`),
            rekeyOf: context.rekeyOf === undefined ? undefined : spiText(context.rekeyOf),
          },
          'Child SA installed',
        );
        report(context, 'child-sa-up');
      },
    },
  }).createMachine({
    id: 'childSa',
    context: ({ input }) => ({
      ...input,
      deadlines: input.adopted?.deadlines,
      installedAtMs: input.adopted?.installedAtMs,
      deleteReason: undefined,
      keepPolicies: false,
      replaced: input.adopted?.rekeyed ?? false,
    }),
    initial: 'starting',
    states: {
      starting: {
        always: [
          { guard: 'adoptedRekeyed', target: 'rekeyed' },
          { guard: 'isAdopted', target: 'installed' },
          { target: 'installing' },
        ],
      },
      installing: {
        invoke: {
          src: 'installChildSa',
          input: ({ context }) => kernelState(context),
          onDone: { target: 'installed', actions: ['startLifetime', 'logInstalled', 'reportInstalled'] },
          onError: {
            target: 'deleting',
            actions: [
              assign({ deleteReason: ({ event }) => `kernel refused the SA: ${String((event.error as Error)?.message ?? event.error)}` }),
              sendParent(({ context, event }): ChildSaReport => ({
                type: 'CHILD_SA_INSTALL_FAILED',
                inboundSpi: context.params.inboundSpi,
                reason: String((event.error as Error)?.message ?? event.error),
              })),
              ({ context, event }) => log(context).error({ error: String((event.error as Error)?.message ?? event.error) }, 'kernel refused the Child SA'),
            ],
          },
        },
      },
      installed: {
        entry: ['startLifetime', 'armTimers'],
        on: {
          SOFT_EXPIRE: { actions: ['reportRekeyDue', ({ context }) => log(context).info({}, 'Child SA soft lifetime reached: rekey')] },
          REKEYING: { target: 'rekeying' },
          // The peer's rekey replaced this SA (we answered its CREATE_CHILD_SA).
          REKEYED: { target: 'rekeyed' },
          HARD_EXPIRE: { target: 'deleting', actions: [assign({ deleteReason: 'hard lifetime expired' }), 'reportExpired'] },
          USAGE_POLL: { target: 'polling' },
          DELETE: { target: 'deleting', actions: assign(({ event }) => ({ deleteReason: event.reason, keepPolicies: event.keepPolicies })) },
        },
      },
      polling: {
        invoke: {
          src: 'readUsage',
          input: ({ context }) => kernelState(context),
          onDone: [
            {
              guard: ({ context, event }) =>
                byteExpiry(event.output, { softBytes: context.lifetime.rekeyBytes, hardBytes: context.lifetime.lifetimeBytes }) === 'hard',
              target: 'deleting',
              actions: [assign({ deleteReason: 'hard byte lifetime reached' }), 'reportExpired'],
            },
            {
              guard: ({ context, event }) =>
                !context.replaced &&
                byteExpiry(event.output, { softBytes: context.lifetime.rekeyBytes, hardBytes: context.lifetime.lifetimeBytes }) === 'soft',
              target: 'installed',
              actions: ['reportRekeyDue'],
            },
            { target: 'installed' },
          ],
          onError: { target: 'installed' },
        },
        on: {
          DELETE: { target: 'deleting', actions: assign(({ event }) => ({ deleteReason: event.reason, keepPolicies: event.keepPolicies })) },
          HARD_EXPIRE: { target: 'deleting', actions: [assign({ deleteReason: 'hard lifetime expired' }), 'reportExpired'] },
          REKEYING: { target: 'rekeying' },
        },
      },
      rekeying: {
        entry: ['cancelRekeyTimer'],
        on: {
          REKEYED: { target: 'rekeyed' },
          REKEY_ABORTED: {
            target: 'installed',
            actions: assign(({ context, event }) => ({
              deadlines: context.deadlines === undefined ? undefined : { ...context.deadlines, rekeyAtMs: Math.min(event.retryAtMs, context.deadlines.expireAtMs) },
            })),
          },
          HARD_EXPIRE: { target: 'deleting', actions: [assign({ deleteReason: 'hard lifetime expired during rekey' }), 'reportExpired'] },
          DELETE: { target: 'deleting', actions: assign(({ event }) => ({ deleteReason: event.reason, keepPolicies: event.keepPolicies })) },
        },
      },
      rekeyed: {
        entry: ['markReplaced', 'cancelRekeyTimer', 'armTimers'],
        on: {
          HARD_EXPIRE: { target: 'deleting', actions: [assign({ deleteReason: 'hard lifetime expired after rekey' }), 'reportExpired'] },
          DELETE: { target: 'deleting', actions: assign(({ event }) => ({ deleteReason: event.reason, keepPolicies: event.keepPolicies })) },
        },
      },
      deleting: {
        entry: ['cancelTimers'],
        invoke: {
          src: 'deleteChildSa',
          input: ({ context }) => ({ state: kernelState(context), keepPolicies: context.keepPolicies }),
          onDone: { target: 'deleted' },
          onError: {
            target: 'deleted',
            actions: ({ context, event }) => log(context).error({ error: String((event.error as Error)?.message ?? event.error) }, 'kernel delete of the Child SA failed'),
          },
        },
      },
      // Not a final state: the IKE SA stops this actor when it hears CHILD_SA_DELETED, so no
      // done event can reach an IKE SA that has already ended.
      deleted: {
        entry: [
          'reportDeleted',
          ({ context }) => {
            log(context).info({ reason: context.deleteReason ?? 'deleted' }, 'Child SA deleted');
            report(context, 'child-sa-down', context.deleteReason);
          },
        ],
      },
    },
  });
}

export type ChildSaLogic = ReturnType<typeof createChildSaLogic>;
