/**
 * Phase 1: one IKE SA (RFC 7296), initiator or responder, from the first IKE_SA_INIT to its end.
 *
 *   starting ─┬─(initiator)─► ikeSaInit ──IKE_SA_INIT_DONE──► ikeAuth ──IKE_AUTH_DONE──► established
 *             ├─(responder)─► answeringIkeSaInit ──IKE_SA_INIT_DONE──┘                      │
 *             ├─(rekeyed, 2.18)────────────────────────────────────────────────────────────┤
 *             └─(redundant of a rekey collision, 2.8.2)─► redundant ──(its creator's Delete)──► closing
 *   any ──IKE_SA_FAILED / IKE_SA_ENDED / DISCARD──► closing ──CHILDREN_GONE──► [lingering ──►] closed (final)
 *
 * In `established` the SA answers the peer's requests and runs its own, one at a time (window 1,
 * 2.3): Child SA creation and rekey, IKE SA rekey (the Child SAs then move to the new IKE SA
 * actor), deletes, liveness checks. Child SAs (phase 2) are child actors spawned here.
 *
 * The machine decides; each `step` action runs a named handler (ike-sa-*.ts) that computes a
 * `Step` (new context plus effects), and the effects become XState actions here: sends through
 * the NetworkPort, timers through the TimerPort (absolute deadlines), Child SA actors, reports to
 * the supervisor, raised events that move this chart, log records through the LogPort.
 */
import { enqueueActions, setup, type AnyActorRef } from 'xstate';
import type { EnginePorts } from '../../src/engine/engine-ports.js';
import { createChildSaLogic } from './child-sa.js';
import type { IkeSaContext, IkeSaEvent, IkeSaInput } from './ike-sa-context.js';
import { failNegotiation, onIkeAuthRequest, onIkeAuthResponse, onIkeSaInitResponse, startInitiator, startResponder } from './ike-sa-handshake.js';
import {
  beginClosing,
  beginLingering,
  onChildReport,
  onClosed,
  onCommand,
  onDpdDue,
  onEstablished,
  onMessage,
  onPredecessorGone,
  onRedundant,
  onRedundantTimeout,
  onRetransmit,
  onSoftExpire,
  terminate,
} from './ike-sa-lifecycle.js';
import { Step, logBindings } from './ike-sa-step.js';

export function initialContext(input: IkeSaInput): IkeSaContext {
  const zero = Buffer.alloc(8);
  const rekeyed = input.rekeyed;
  const role = rekeyed?.security.role ?? (input.kind === 'initiate' ? 'initiator' : 'responder');
  const spiI = rekeyed?.security.spiI ?? (input.kind === 'initiate' ? input.localSpi : Buffer.from(input.request?.message.header.spiI ?? zero));
  const spiR = rekeyed?.security.spiR ?? (input.kind === 'initiate' ? zero : input.localSpi);
  return {
    id: input.id,
    origin: input.kind,
    initRequest: input.request,
    adoption: rekeyed === undefined ? undefined : { children: rekeyed.children },
    redundant: rekeyed?.redundant,
    heldRedundant: undefined,
    connection: input.connection,
    candidates: input.candidates ?? [],
    role,
    local: input.local,
    remote: input.remote,
    spiI,
    spiR,
    security: rekeyed?.security,
    handshake: undefined,
    nat: rekeyed?.nat ?? { supported: false, localBehindNat: false, remoteBehindNat: false },
    peerFragmentation: rekeyed?.peerFragmentation ?? false,
    peerId: rekeyed?.peerId,
    nextRequestId: 0,
    expectedRequestId: 0,
    outstanding: undefined,
    queue: rekeyed?.queue ?? [],
    lastResponse: undefined,
    children: {},
    lifetime: undefined,
    establishedAtMs: undefined,
    lastHeardMs: 0,
    counters: { outOfWindow: 0, answeredFromCache: 0, retransmissions: 0, undecryptable: 0 },
    endReason: undefined,
    handedOver: false,
    replacedBy: undefined,
    collisions: [],
    predecessor: rekeyed?.predecessor,
    lingerAfterClose: false,
    downReported: false,
    reassembly: undefined,
  };
}

type Handler = (step: Step, event: IkeSaEvent) => void;

/** Every handler the chart names, so the inspector shows which one ran. */
const HANDLERS = {
  startInitiator: (step) => startInitiator(step),
  startResponder: (step) => {
    const request = step.ctx.initRequest;
    step.set({ initRequest: undefined });
    if (request === undefined) failNegotiation(step, 'responder without a request');
    else startResponder(step, request);
  },
  ikeSaInitResponse: (step, e) => e.type === 'MESSAGE' && onIkeSaInitResponse(step, e),
  ikeAuthResponse: (step, e) => e.type === 'MESSAGE' && onIkeAuthResponse(step, e),
  ikeAuthRequest: (step, e) => e.type === 'MESSAGE' && onIkeAuthRequest(step, e),
  halfOpenTimeout: (step) => failNegotiation(step, 'no IKE_AUTH request within the half-open timeout'),
  established: (step) => onEstablished(step),
  redundant: (step) => onRedundant(step),
  predecessorGone: (step) => onPredecessorGone(step),
  redundantTimeout: (step) => onRedundantTimeout(step),
  message: (step, e) => e.type === 'MESSAGE' && onMessage(step, e),
  retransmit: (step, e) => e.type === 'RETRANSMIT' && onRetransmit(step, e.messageId),
  softExpire: (step) => onSoftExpire(step),
  hardExpire: (step) => terminate(step, 'IKE SA hard lifetime expired'),
  dpdDue: (step) => onDpdDue(step),
  terminate: (step, e) => e.type === 'TERMINATE' && terminate(step, e.reason),
  setEndReason: (step, e) => (e.type === 'TERMINATE' || e.type === 'DISCARD') && step.set({ endReason: e.reason }),
  handoverTimeout: (step) => step.set({ endReason: 'rekeyed; the peer never deleted the old IKE SA' }),
  command: onCommand,
  childReport: onChildReport,
  beginClosing: (step) => beginClosing(step),
  beginLingering: (step) => beginLingering(step),
  closingMessage: (step, e) => {
    if (e.type !== 'MESSAGE') return;
    // A retransmitted request of the peer (its Delete, say) still gets our cached answer.
    const cached = step.ctx.lastResponse;
    const h = e.message.header;
    if (cached !== undefined && !h.flags.response && h.messageId === cached.messageId) step.send(cached.datagrams);
  },
  closed: (step) => onClosed(step),
} satisfies Record<string, Handler>;

export type IkeSaHandlerName = keyof typeof HANDLERS;

export function createIkeSaLogic(ports: EnginePorts) {
  const childSa = createChildSaLogic(ports);

  return setup({
    types: {
      context: {} as IkeSaContext,
      events: {} as IkeSaEvent,
      input: {} as IkeSaInput,
      output: {} as { id: string; reason: string },
    },
    actors: { childSa },
    guards: {
      isInitiator: ({ context }) => context.origin === 'initiate',
      isResponder: ({ context }) => context.origin === 'respond',
      isRedundant: ({ context }) => context.redundant !== undefined,
      weInitiated: ({ context }) => context.role === 'initiator',
      shouldLinger: ({ context }) => context.lingerAfterClose,
    },
    actions: {
      step: enqueueActions(({ context, event, enqueue, self }, params: { handler: IkeSaHandlerName }) => {
        const step = new Step(context, ports);
        (HANDLERS[params.handler] as Handler)(step, event);
        const ctx = step.ctx;
        enqueue.assign(() => ctx);
        const owner = ctx.id;
        for (const e of step.effects) {
          switch (e.kind) {
            case 'send':
              for (const bytes of e.datagrams) enqueue(() => ports.network.send({ local: e.local, remote: e.remote, bytes }));
              break;
            case 'arm':
              enqueue(() => ports.timers.arm(owner, e.name, e.atMs, e.event));
              break;
            case 'cancel':
              enqueue(() => ports.timers.cancel(owner, e.name));
              break;
            case 'cancel-all':
              enqueue(() => ports.timers.cancelAll(owner));
              break;
            case 'spawn-child':
              enqueue.spawnChild('childSa', { id: e.input.id, systemId: e.input.id, input: e.input });
              break;
            case 'to-child': {
              // Built-in sendTo (delivered after this step, never nested); a child that is gone
              // already (it finished) is simply not told.
              const child = self.system.get(e.actorId) as AnyActorRef | undefined;
              if (child !== undefined) enqueue.sendTo(child, e.event);
              break;
            }
            case 'stop-child':
              enqueue.stopChild(e.actorId);
              enqueue(() => ports.timers.cancelAll(e.actorId));
              break;
            case 'to-supervisor':
              enqueue.sendParent(e.event);
              break;
            case 'raise':
              enqueue.raise(e.event);
              break;
            case 'report':
              enqueue(() => ports.events.report(e.event));
              break;
            case 'release-spi':
              enqueue(() => ports.spis.release(e.spi));
              break;
            case 'keylog':
              enqueue(() => void ports.keylog?.ikeSaEstablished(e.keys));
              break;
            case 'log': {
              const bindings = logBindings(ctx);
              enqueue(() => ports.log.child(bindings)[e.level](e.fields, e.message));
              break;
            }
          }
        }
      }),
    },
  }).createMachine({
    id: 'ikeSa',
    context: ({ input }) => initialContext(input),
    output: ({ context }) => ({ id: context.id, reason: context.endReason ?? 'closed' }),
    initial: 'starting',
    on: {
      DISCARD: { target: '.closing', actions: { type: 'step', params: { handler: 'setEndReason' } } },
    },
    states: {
      starting: {
        always: [
          { guard: 'isInitiator', target: 'ikeSaInit' },
          { guard: 'isResponder', target: 'answeringIkeSaInit' },
          { guard: 'isRedundant', target: 'redundant' },
          { target: 'established' },
        ],
      },
      ikeSaInit: {
        entry: { type: 'step', params: { handler: 'startInitiator' } },
        on: {
          MESSAGE: { actions: { type: 'step', params: { handler: 'ikeSaInitResponse' } } },
          RETRANSMIT: { actions: { type: 'step', params: { handler: 'retransmit' } } },
          IKE_SA_INIT_DONE: { target: 'ikeAuth' },
          IKE_SA_FAILED: { target: 'closing' },
          TERMINATE: { target: 'closing', actions: { type: 'step', params: { handler: 'setEndReason' } } },
        },
      },
      answeringIkeSaInit: {
        entry: { type: 'step', params: { handler: 'startResponder' } },
        on: {
          IKE_SA_INIT_DONE: { target: 'ikeAuth' },
          IKE_SA_FAILED: { target: 'closing' },
        },
      },
      ikeAuth: {
        on: {
          MESSAGE: [
            { guard: 'weInitiated', actions: { type: 'step', params: { handler: 'ikeAuthResponse' } } },
            { actions: { type: 'step', params: { handler: 'ikeAuthRequest' } } },
          ],
          RETRANSMIT: { actions: { type: 'step', params: { handler: 'retransmit' } } },
          HALF_OPEN_TIMEOUT: { actions: { type: 'step', params: { handler: 'halfOpenTimeout' } } },
          IKE_AUTH_DONE: { target: 'established' },
          IKE_SA_FAILED: { target: 'closing' },
          TERMINATE: { target: 'closing', actions: { type: 'step', params: { handler: 'setEndReason' } } },
          CHILD_SA_INSTALLED: { actions: { type: 'step', params: { handler: 'childReport' } } },
          CHILD_SA_INSTALL_FAILED: { actions: { type: 'step', params: { handler: 'childReport' } } },
          CHILD_SA_DELETED: { actions: { type: 'step', params: { handler: 'childReport' } } },
        },
      },
      established: {
        entry: { type: 'step', params: { handler: 'established' } },
        on: {
          MESSAGE: { actions: { type: 'step', params: { handler: 'message' } } },
          RETRANSMIT: { actions: { type: 'step', params: { handler: 'retransmit' } } },
          SOFT_EXPIRE: { actions: { type: 'step', params: { handler: 'softExpire' } } },
          HARD_EXPIRE: { actions: { type: 'step', params: { handler: 'hardExpire' } } },
          DPD_DUE: { actions: { type: 'step', params: { handler: 'dpdDue' } } },
          HANDOVER_TIMEOUT: { target: 'closing', actions: { type: 'step', params: { handler: 'handoverTimeout' } } },
          TERMINATE: { actions: { type: 'step', params: { handler: 'terminate' } } },
          CREATE_CHILD_SA: { actions: { type: 'step', params: { handler: 'command' } } },
          REKEY_IKE_SA: { actions: { type: 'step', params: { handler: 'command' } } },
          REKEY_CHILD_SA: { actions: { type: 'step', params: { handler: 'command' } } },
          DELETE_CHILD_SA: { actions: { type: 'step', params: { handler: 'command' } } },
          CHILD_SA_INSTALLED: { actions: { type: 'step', params: { handler: 'childReport' } } },
          CHILD_SA_INSTALL_FAILED: { actions: { type: 'step', params: { handler: 'childReport' } } },
          CHILD_SA_REKEY_DUE: { actions: { type: 'step', params: { handler: 'childReport' } } },
          CHILD_SA_EXPIRED: { actions: { type: 'step', params: { handler: 'childReport' } } },
          CHILD_SA_DELETED: { actions: { type: 'step', params: { handler: 'childReport' } } },
          IKE_SA_ENDED: { target: 'closing' },
          IKE_SA_FAILED: { target: 'closing' },
        },
      },
      // The SA of a simultaneous IKE SA rekey created with the lowest nonce (2.8.2): never up;
      // its creator closes it (we, or the peer, whose Delete we answer).
      redundant: {
        entry: { type: 'step', params: { handler: 'redundant' } },
        on: {
          MESSAGE: { actions: { type: 'step', params: { handler: 'message' } } },
          RETRANSMIT: { actions: { type: 'step', params: { handler: 'retransmit' } } },
          PREDECESSOR_GONE: { actions: { type: 'step', params: { handler: 'predecessorGone' } } },
          REDUNDANT_TIMEOUT: { target: 'closing', actions: { type: 'step', params: { handler: 'redundantTimeout' } } },
          TERMINATE: { target: 'closing', actions: { type: 'step', params: { handler: 'setEndReason' } } },
          IKE_SA_ENDED: { target: 'closing' },
          IKE_SA_FAILED: { target: 'closing' },
        },
      },
      closing: {
        entry: { type: 'step', params: { handler: 'beginClosing' } },
        on: {
          CHILD_SA_DELETED: { actions: { type: 'step', params: { handler: 'childReport' } } },
          CHILDREN_GONE: [{ guard: 'shouldLinger', target: 'lingering' }, { target: 'closed' }],
          CLOSE_TIMEOUT: [{ guard: 'shouldLinger', target: 'lingering' }, { target: 'closed' }],
          MESSAGE: { actions: { type: 'step', params: { handler: 'closingMessage' } } },
        },
      },
      lingering: {
        entry: { type: 'step', params: { handler: 'beginLingering' } },
        on: {
          CLOSE_TIMEOUT: { target: 'closed' },
          MESSAGE: { actions: { type: 'step', params: { handler: 'closingMessage' } } },
        },
      },
      closed: {
        type: 'final',
        entry: { type: 'step', params: { handler: 'closed' } },
      },
    },
  });
}

export type IkeSaLogic = ReturnType<typeof createIkeSaLogic>;
