/**
 * Phase 2: one Child SA (RFC 7296 1.3, 2.8), from the moment its keys exist until its ESP SAs are
 * gone from the kernel.
 *
 *   installing ──KERNEL_DONE──► installed ──REKEYING──► rekeying ──REKEYED──► rekeyed ──HARD_EXPIRE──► expiring
 *     │   │                      ▲  │  ▲  ▲                   │                   │                        │
 *     │   │ outbound deferred    │  │  │  └──REKEY_ABORTED────┘                   │                        │
 *     │   └─► awaitingOutbound ──┘  │  └─ polling (byte lifetimes)                │                        │
 *     │       (.waiting ─INSTALL_OUTBOUND─► .installing)                          │                        │
 *     │                             └──DELETE / HARD_EXPIRE──► deleting ◄──DELETE─┘◄────────DELETE──────────┘
 *     └─KERNEL_FAILED─────────────────────────────────────────►┘ ──KERNEL_DONE──► deleted
 *
 * (awaitingOutbound, like installed, goes to deleting on DELETE or its own hard lifetime.)
 *
 * The IKE SA negotiates (it owns the Message IDs); this machine owns the kernel state and the
 * lifetimes: the soft lifetime (with jitter) asks the IKE SA for a rekey, the hard lifetime
 * deletes. In service only the rekey timer is armed (the soft lifetime comes first); the hard
 * lifetime's timer is armed from then on, and in every state that waits for a replacement or a
 * Delete. Byte lifetimes poll the kernel's counters. A rekeyed SA stays installed (make before
 * break, 2.8) until the IKE SA has deleted it at the peer and tells it DELETE; when its hard
 * lifetime comes first it waits in `expiring` for the IKE SA's DELETE, so that the SA replacing
 * it has its outbound SA in the kernel before this one's leaves.
 *
 * The SA the peer's rekey created (we answered its CREATE_CHILD_SA with REKEY_SA) starts
 * without its outbound SA (`outboundDeferred`): Linux sends on the newest outbound SA of a reqid
 * at once, and the peer has no inbound SA for it before it has our response. It waits in
 * `awaitingOutbound` (inbound SA and policies in the kernel; traffic still leaves on the old SA)
 * until the IKE SA says INSTALL_OUTBOUND: the old SA goes, normally because the peer deleted it,
 * which shows it has the new SAs (strongSwan does the same).
 *
 * Pure: kernel work, timers, SA reports and logs leave as effects (machines/effects.ts); the
 * kernel's answers come back as KERNEL_DONE / KERNEL_FAILED / USAGE events, timers as their
 * events. Deadlines are absolute and kept in context, so a restored snapshot can re-arm them.
 */
import { and, assign, enqueueActions, sendParent, setup } from 'xstate';
import { HARD_EXPIRE, SOFT_EXPIRE, byteExpiry, lifetimeDeadlines, type LifetimeDeadlines } from '../../src/timers/lifetime.js';
import { espSpiHex } from '../../src/wire/index.js';
import { performAction as perform, type Effect, type KernelChange, type LogLevel } from '../effects.js';
import type { MachinePorts } from '../ports.js';
import type { ChildSaContext, ChildSaEvent, ChildSaInput, ChildSaReport } from './child-sa-context.js';

const TIMER = { rekey: 'rekey', expire: 'expire', usage: 'usage' } as const;
/** One event object, not one per armed timer (memory per SA); the lifetime events: lifetime.ts. */
const USAGE_POLL = Object.freeze({ type: 'USAGE_POLL' } as const);

const deleteOn = (reason: string) => ({ type: 'deleteBecause' as const, params: reason });

export function createChildSaLogic(ports: MachinePorts) {
  const log = (ctx: ChildSaContext, level: LogLevel, fields: object, message: string) =>
    perform({
      kind: 'log',
      level,
      // Spelled out, not a spread of ctx.log plus two keys: V8 (Node 20) gives each such object a
      // hidden class of its own (child-records.ts).
      bindings: { connection: ctx.log.connection, spiI: ctx.log.spiI, spiR: ctx.log.spiR, childSa: espSpiHex(ctx.params.inboundSpi), peerSpi: espSpiHex(ctx.params.outboundSpi) },
      fields,
      message,
    });
  const sa = (ctx: ChildSaContext) => ({
    connection: ctx.connection,
    ikeSa: ctx.ikeSaId,
    inboundSpi: espSpiHex(ctx.params.inboundSpi),
    outboundSpi: espSpiHex(ctx.params.outboundSpi),
    atMs: ports.clock.now(),
  });
  const expiry = (ctx: ChildSaContext, bytes: number | undefined) =>
    bytes === undefined ? 'none' : byteExpiry(bytes, { softBytes: ctx.lifetime.rekeyBytes, hardBytes: ctx.lifetime.lifetimeBytes });

  return setup({
    types: {
      context: {} as ChildSaContext,
      events: {} as ChildSaEvent,
      input: {} as ChildSaInput,
    },
    guards: {
      isAdopted: ({ context }) => context.adopted !== undefined,
      adoptedRekeyed: ({ context }) => context.adopted?.rekeyed === true,
      adoptedAwaitingOutbound: ({ context }) => context.adopted !== undefined && context.outbound !== 'installed',
      outboundAwaited: ({ context }) => context.outbound !== 'installed',
      outboundDue: ({ context }) => context.outbound === 'due',
      kernelAnswered: ({ event }, op: KernelChange) =>
        (event.type === 'KERNEL_DONE' || event.type === 'KERNEL_FAILED') && event.op === op,
      hardBytesReached: ({ context, event }) => event.type === 'USAGE' && expiry(context, event.bytes) === 'hard',
      kernelHardLimit: ({ event }) => event.type === 'KERNEL_EXPIRE' && event.hard,
      softBytesReached: ({ context, event }) => event.type === 'USAGE' && expiry(context, event.bytes) === 'soft',
    },
    actions: {
      /** The one way out to the world: the effect interpreter, after the step. */
      perform: (_, effect: Effect) => ports.effects.perform(effect),
      install: enqueueActions(({ context, enqueue }) =>
        enqueue(
          perform({ kind: 'install-child-sa', replyTo: context.id, params: context.params, placement: context.placement, withOutbound: context.outbound === 'installed' }),
        ),
      ),
      // From here on a delete takes the outbound SA too (one made while this is under way waits for it).
      installOutbound: enqueueActions(({ context, enqueue }) => {
        enqueue.assign({ outbound: 'installed' });
        enqueue(perform({ kind: 'install-outbound-sa', replyTo: context.id, params: context.params, placement: context.placement }));
      }),
      outboundDue: assign(({ context, event }) => ({
        outbound: context.outbound === 'awaited' ? ('due' as const) : context.outbound,
        outboundReason: event.type === 'INSTALL_OUTBOUND' ? event.reason : context.outboundReason,
      })),
      outboundReason: assign(({ context, event }) => ({ outboundReason: event.type === 'INSTALL_OUTBOUND' ? event.reason : context.outboundReason })),
      outboundNotInstalled: assign({ outbound: 'awaited' as const }),
      // A soft limit while the outbound SA waits: the rekey is asked for once the SA is complete.
      rekeyWhenComplete: assign(({ context }) => ({
        deadlines: context.deadlines === undefined ? undefined : { ...context.deadlines, rekeyAtMs: Math.min(context.deadlines.rekeyAtMs, ports.clock.now()) },
      })),
      remove: enqueueActions(({ context, enqueue }) => {
        enqueue(perform({ kind: 'cancel-timers', owner: context.id }));
        enqueue(
          perform({
            kind: 'delete-child-sa',
            replyTo: context.id,
            params: context.params,
            placement: context.placement,
            withOutbound: context.outbound === 'installed',
            keepPolicies: context.keepPolicies,
          }),
        );
      }),
      readUsage: enqueueActions(({ context, enqueue }) =>
        enqueue(perform({ kind: 'read-child-sa-usage', replyTo: context.id, params: context.params, placement: context.placement })),
      ),
      startLifetime: assign(({ context }) => {
        const now = ports.clock.now();
        const lt = context.lifetime;
        const deadlines =
          context.deadlines ??
          lifetimeDeadlines({ rekeySeconds: lt.rekeySeconds, lifetimeSeconds: lt.lifetimeSeconds, jitterSeconds: lt.jitterSeconds }, now, ports.random);
        return { deadlines, installedAtMs: context.installedAtMs ?? now };
      }),
      /**
       * The SA in service waits for its soft lifetime (and polls its byte counters): the hard
       * lifetime cannot come first, so it is armed when the rekey starts (armHardLifetime), and
       * an SA in service waits on one timer, not two.
       */
      armRekey: enqueueActions(({ context, enqueue }) => {
        const d = context.deadlines;
        if (d === undefined) return;
        const owner = context.id;
        enqueue(perform({ kind: 'arm-timer', owner, name: TIMER.rekey, atMs: d.rekeyAtMs, event: SOFT_EXPIRE }));
        if (context.byteLifetimePollMs > 0 && (context.lifetime.rekeyBytes !== undefined || context.lifetime.lifetimeBytes !== undefined)) {
          enqueue(perform({ kind: 'arm-timer', owner, name: TIMER.usage, atMs: ports.clock.now() + context.byteLifetimePollMs, event: USAGE_POLL }));
        }
      }),
      /**
       * From the soft lifetime on (or a rekey, ours or the peer's, or an SA that waits for its
       * outbound half), the hard one (2.8): the SA is deleted then unless its replacement came
       * first. Arming an armed timer replaces it: entering here twice does no harm.
       */
      armHardLifetime: enqueueActions(({ context, enqueue }) => {
        const d = context.deadlines;
        if (d !== undefined) enqueue(perform({ kind: 'arm-timer', owner: context.id, name: TIMER.expire, atMs: d.expireAtMs, event: HARD_EXPIRE }));
      }),
      /**
       * Back in service after waiting for its outbound SA or a rekey that failed: the rekey is due
       * again no later than the hard lifetime (postponeRekey), and arms it then.
       */
      cancelHardLifetime: enqueueActions(({ context, enqueue }) => enqueue(perform({ kind: 'cancel-timer', owner: context.id, name: TIMER.expire }))),
      cancelRekeyTimer: enqueueActions(({ context, enqueue }) => enqueue(perform({ kind: 'cancel-timer', owner: context.id, name: TIMER.rekey }))),
      deleteBecause: assign((_, reason: string) => ({ deleteReason: reason })),
      acceptDelete: assign(({ event }) => (event.type === 'DELETE' ? { deleteReason: event.reason, keepPolicies: event.keepPolicies } : {})),
      acceptDeleteKeepingReason: assign(({ event }) => (event.type === 'DELETE' ? { keepPolicies: event.keepPolicies } : {})),
      postponeRekey: assign(({ context, event }) => ({
        deadlines:
          event.type !== 'REKEY_ABORTED' || context.deadlines === undefined
            ? context.deadlines
            : { ...context.deadlines, rekeyAtMs: Math.min(event.retryAtMs, context.deadlines.expireAtMs) },
      })),
      reportInstalled: sendParent(({ context }): ChildSaReport => ({
        type: 'CHILD_SA_INSTALLED',
        inboundSpi: context.params.inboundSpi,
        deadlines: context.deadlines as LifetimeDeadlines,
        installedAtMs: context.installedAtMs ?? ports.clock.now(),
      })),
      reportInstallFailed: enqueueActions(({ context, event, enqueue }) => {
        const reason = event.type === 'KERNEL_FAILED' ? event.reason : 'unknown';
        enqueue.assign({ deleteReason: `kernel refused the SA: ${reason}` });
        enqueue.sendParent({ type: 'CHILD_SA_INSTALL_FAILED', inboundSpi: context.params.inboundSpi, reason } satisfies ChildSaReport);
        enqueue(log(context, 'error', { error: reason }, 'kernel refused the Child SA'));
      }),
      reportRekeyDue: sendParent(({ context }): ChildSaReport => ({ type: 'CHILD_SA_REKEY_DUE', inboundSpi: context.params.inboundSpi })),
      reportExpired: sendParent(({ context }): ChildSaReport => ({ type: 'CHILD_SA_EXPIRED', inboundSpi: context.params.inboundSpi })),
      logSoftExpire: enqueueActions(({ context, enqueue }) => enqueue(log(context, 'info', {}, 'Child SA soft lifetime reached: rekey'))),
      logInstalled: enqueueActions(({ context, enqueue }) => {
        if (context.adopted !== undefined) return;
        enqueue(
          log(
            context,
            'info',
            {
              mode: context.params.mode,
              localTs: context.params.localTs.map((s) => `${s.startAddress}-${s.endAddress}`),
              remoteTs: context.params.remoteTs.map((s) => `${s.startAddress}-${s.endAddress}`),
              rekeyOf: context.rekeyOf === undefined ? undefined : espSpiHex(context.rekeyOf),
              ...(context.outbound === 'installed' ? {} : { outbound: "awaiting the peer's Delete of the rekeyed Child SA" }),
            },
            'Child SA installed',
          ),
        );
        enqueue(
          perform({
            kind: 'report',
            event: {
              kind: 'child-sa-up',
              ...sa(context),
              ...(context.rekeyOf === undefined ? {} : { rekeyOf: espSpiHex(context.rekeyOf) }),
              rekeyAtMs: context.deadlines?.rekeyAtMs ?? 0,
              expireAtMs: context.deadlines?.expireAtMs ?? 0,
            },
          }),
        );
      }),
      logOutboundInstalled: enqueueActions(({ context, enqueue }) =>
        enqueue(
          log(
            context,
            'info',
            { rekeyOf: context.rekeyOf === undefined ? undefined : espSpiHex(context.rekeyOf) },
            `outbound SA installed: ${context.outboundReason ?? 'the rekeyed Child SA goes'}`,
          ),
        ),
      ),
      logDeleteFailed: enqueueActions(({ context, event, enqueue }) => {
        if (event.type === 'KERNEL_FAILED') enqueue(log(context, 'error', { error: event.reason }, 'kernel delete of the Child SA failed'));
      }),
      reportDeleted: enqueueActions(({ context, enqueue }) => {
        const reason = context.deleteReason ?? 'deleted';
        enqueue.sendParent({ type: 'CHILD_SA_DELETED', inboundSpi: context.params.inboundSpi } satisfies ChildSaReport);
        enqueue(log(context, 'info', { reason }, 'Child SA deleted'));
        enqueue(perform({ kind: 'report', event: { kind: 'child-sa-down', ...sa(context), reason } }));
      }),
    },
  }).createMachine({
    id: 'childSa',
    // Every key spelled out (not `...input` plus the context's own keys), so that each Child SA's
    // context shares one hidden class in V8 instead of having one of its own (child-records.ts).
    context: ({ input }): ChildSaContext => ({
      id: input.id,
      ikeSaId: input.ikeSaId,
      connection: input.connection,
      params: input.params,
      placement: input.placement,
      lifetime: input.lifetime,
      rekeyOf: input.rekeyOf,
      outboundDeferred: input.outboundDeferred,
      adopted: input.adopted,
      log: input.log,
      byteLifetimePollMs: input.byteLifetimePollMs,
      outbound: input.outboundDeferred === true ? 'awaited' : 'installed',
      outboundReason: undefined,
      deadlines: input.adopted?.deadlines,
      installedAtMs: input.adopted?.installedAtMs,
      deleteReason: undefined,
      keepPolicies: false,
    }),
    initial: 'starting',
    states: {
      starting: {
        always: [
          { guard: 'adoptedRekeyed', target: 'rekeyed' },
          { guard: 'adoptedAwaitingOutbound', target: 'awaitingOutbound' },
          { guard: 'isAdopted', target: 'installed' },
          { target: 'installing' },
        ],
      },
      installing: {
        entry: 'install',
        initial: 'waiting',
        states: {
          waiting: {
            on: {
              KERNEL_DONE: [
                {
                  guard: and([{ type: 'kernelAnswered', params: 'install-child-sa' as const }, 'outboundAwaited']),
                  target: '#childSa.awaitingOutbound',
                  actions: ['startLifetime', 'logInstalled', 'reportInstalled'],
                },
                { guard: { type: 'kernelAnswered', params: 'install-child-sa' }, target: '#childSa.installed', actions: ['startLifetime', 'logInstalled', 'reportInstalled'] },
              ],
              // The IKE SA ended while the kernel was still installing: delete once it answers.
              DELETE: { target: 'deleteWhenInstalled', actions: 'acceptDelete' },
              // The SA this one replaces goes already: the outbound SA follows the inbound one.
              INSTALL_OUTBOUND: { actions: 'outboundDue' },
            },
          },
          deleteWhenInstalled: {
            on: { KERNEL_DONE: { guard: { type: 'kernelAnswered', params: 'install-child-sa' }, target: '#childSa.deleting' } },
          },
        },
        on: {
          KERNEL_FAILED: { guard: { type: 'kernelAnswered', params: 'install-child-sa' }, target: 'deleting', actions: 'reportInstallFailed' },
        },
      },
      // The peer's rekey we answered (2.8): inbound SA and policies in the kernel, the outbound SA
      // not yet; traffic still leaves on the SA this one replaces.
      awaitingOutbound: {
        entry: ['startLifetime', 'armHardLifetime'],
        initial: 'waiting',
        states: {
          waiting: {
            always: { guard: 'outboundDue', target: 'installing' },
            on: { INSTALL_OUTBOUND: { target: 'installing', actions: 'outboundReason' } },
          },
          installing: {
            entry: 'installOutbound',
            on: {
              KERNEL_DONE: { guard: { type: 'kernelAnswered', params: 'install-outbound-sa' }, target: '#childSa.installed', actions: ['logOutboundInstalled', 'cancelHardLifetime'] },
            },
          },
        },
        on: {
          KERNEL_FAILED: { guard: { type: 'kernelAnswered', params: 'install-outbound-sa' }, target: 'deleting', actions: ['outboundNotInstalled', 'reportInstallFailed'] },
          HARD_EXPIRE: { target: 'deleting', actions: [deleteOn('hard lifetime expired'), 'reportExpired'] },
          KERNEL_EXPIRE: [
            { guard: 'kernelHardLimit', target: 'deleting', actions: [deleteOn('hard limit reached in the kernel'), 'reportExpired'] },
            { actions: 'rekeyWhenComplete' },
          ],
          DELETE: { target: 'deleting', actions: 'acceptDelete' },
        },
      },
      installed: {
        entry: ['startLifetime', 'armRekey'],
        on: {
          SOFT_EXPIRE: { actions: ['armHardLifetime', 'reportRekeyDue', 'logSoftExpire'] },
          REKEYING: { target: 'rekeying' },
          // The peer's rekey replaced this SA (we answered its CREATE_CHILD_SA).
          REKEYED: { target: 'rekeyed' },
          HARD_EXPIRE: { target: 'deleting', actions: [deleteOn('hard lifetime expired'), 'reportExpired'] },
          KERNEL_EXPIRE: [
            { guard: 'kernelHardLimit', target: 'deleting', actions: [deleteOn('hard limit reached in the kernel'), 'reportExpired'] },
            { actions: ['reportRekeyDue', 'logSoftExpire'] },
          ],
          USAGE_POLL: { target: 'polling' },
          DELETE: { target: 'deleting', actions: 'acceptDelete' },
        },
      },
      polling: {
        entry: 'readUsage',
        on: {
          USAGE: [
            { guard: 'hardBytesReached', target: 'deleting', actions: [deleteOn('hard byte lifetime reached'), 'reportExpired'] },
            { guard: 'softBytesReached', target: 'installed', actions: 'reportRekeyDue' },
            { target: 'installed' },
          ],
          DELETE: { target: 'deleting', actions: 'acceptDelete' },
          HARD_EXPIRE: { target: 'deleting', actions: [deleteOn('hard lifetime expired'), 'reportExpired'] },
          REKEYING: { target: 'rekeying' },
        },
      },
      rekeying: {
        entry: ['cancelRekeyTimer', 'armHardLifetime'],
        on: {
          REKEYED: { target: 'rekeyed' },
          REKEY_ABORTED: { target: 'installed', actions: ['postponeRekey', 'cancelHardLifetime'] },
          HARD_EXPIRE: { target: 'deleting', actions: [deleteOn('hard lifetime expired during rekey'), 'reportExpired'] },
          KERNEL_EXPIRE: { guard: 'kernelHardLimit', target: 'deleting', actions: [deleteOn('hard limit reached in the kernel during rekey'), 'reportExpired'] },
          DELETE: { target: 'deleting', actions: 'acceptDelete' },
        },
      },
      // Replaced: only the hard lifetime and the IKE SA's DELETE remain (make before break, 2.8).
      rekeyed: {
        entry: ['cancelRekeyTimer', 'armHardLifetime'],
        on: {
          HARD_EXPIRE: { target: 'expiring', actions: [deleteOn('hard lifetime expired after rekey'), 'reportExpired'] },
          KERNEL_EXPIRE: { guard: 'kernelHardLimit', target: 'expiring', actions: [deleteOn('hard limit reached in the kernel after rekey'), 'reportExpired'] },
          DELETE: { target: 'deleting', actions: 'acceptDelete' },
        },
      },
      // Expired after its rekey: the IKE SA installs the outbound SA of the SA replacing this one
      // if that still waits (2.8), then says DELETE (keeping the policies that SA shares).
      expiring: {
        on: { DELETE: { target: 'deleting', actions: 'acceptDeleteKeepingReason' } },
      },
      deleting: {
        entry: 'remove',
        on: {
          KERNEL_DONE: { guard: { type: 'kernelAnswered', params: 'delete-child-sa' }, target: 'deleted' },
          KERNEL_FAILED: { guard: { type: 'kernelAnswered', params: 'delete-child-sa' }, target: 'deleted', actions: 'logDeleteFailed' },
        },
      },
      // Not a final state: the IKE SA stops this actor when it hears CHILD_SA_DELETED, so no
      // done event can reach an IKE SA that has already ended.
      deleted: {
        entry: 'reportDeleted',
      },
    },
  });
}

export type ChildSaLogic = ReturnType<typeof createChildSaLogic>;
