/**
 * Phase 1: one IKE SA (RFC 7296), initiator or responder, from the first IKE_SA_INIT to its end.
 * The chart is the protocol: every procedure is a state a reader with RFC 7296 open recognises.
 *
 *   initiator: ikeSaInit ─► ikeAuth.{[signing ─►] allocatingSpi ─► awaitingResponse [─► checkingPeer]} ─┐
 *   responder: answeringIkeSaInit ─► awaitingIkeAuth.{waiting ─► [checkingPeer ─► signing ─►] allocatingSpi} ─┤
 *   rekeyed (2.18) ──────────────────────────────────────────────────────────────────────────────────┴─► established
 *
 *   [ ]: with signatures and certificates (procedures/auth-credentials.ts); a PSK goes straight on.
 *
 *   established (parallel)
 *     window      our requests, one at a time (2.3): idle, creatingChild, rekeyingChild
 *                 (.simultaneous: 2.8.1), deletingChild, rekeyingIke (.simultaneous: 2.8.2),
 *                 deletingIke, checkingLiveness
 *     answering   the peer's requests: idle, allocatingSpi (a Child SA needs our inbound SPI)
 *     succession  current (in service), handingOver (rekeyed, 2.18: deletingOld by us or
 *                 awaitingDelete by the peer), redundant (2.8.2: deletingOurs or awaitingPeersDelete)
 *
 *   any ─► closing.{local | deletedByPeer} ─► closed | lingering ─► closed (final)
 *
 * Handlers (ike-sa-handlers.ts → procedures/) compute a `Step`: the new context and outputs that
 * become actions here: effects for the interpreter (`perform`), Child SA actors, reports to the
 * supervisor, and raised events that move this chart. Inside `established` each event is handled
 * in one region only (XState takes a transition per region), or on `established` itself.
 */
import { enqueueActions, not, setup, type AnyActorRef } from 'xstate';
import { readDeletes } from '../../src/ikev2/exchanges/informational.js';
import { hasNotify } from '../../src/ikev2/exchanges/message-rules.js';
import { NotifyType } from '../../src/wire/index.js';
import { performAction, type Effect, type SpiPurpose } from '../effects.js';
import type { MachinePorts } from '../ports.js';
import { childByOutboundSpi } from './child-records.js';
import { createChildSaLogic } from './child-sa.js';
import type { IkeSaContext, IkeSaEvent, IkeSaInput, PendingRequest } from './ike-sa-context.js';
import type { PeerRequest } from './ike-sa-messages.js';
import { at, established, spiFor, spiRefusedFor, step } from './ike-sa-established.js';
import { runHandler, type HandlerParams } from './ike-sa-handlers.js';
import { initialContext } from './ike-sa-initial-context.js';
import { childSaLimitReached, childSaRateExceeded } from './procedures/create-child-sa.js';
import { Step, logBindings } from './ike-sa-step.js';
import { nextRequest } from './request-window.js';

const peerRequestOf = (event: IkeSaEvent): PeerRequest | undefined => (event.type === 'PEER_REQUEST' ? event.request : undefined);
const informational = (event: IkeSaEvent) => {
  const r = peerRequestOf(event);
  return r?.kind === 'informational' ? r : undefined;
};

export function createIkeSaLogic(ports: MachinePorts) {
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
      /** Our connection authenticates with a signature (auth: pubkey): made before IKE_AUTH is sent. */
      signsWithCertificate: ({ context }) => context.connection !== undefined && ports.config.connection(context.connection)?.ikePolicy.auth === 'pubkey',
      /** The connection the initiator's IDs chose authenticates with certificates: they are checked first. */
      checksCertificates: ({ event }) => event.type === 'IKE_AUTH_RECEIVED' && event.certificates,
      redundantOurs: ({ context }) => context.redundantOf === 'ours',
      redundantPeers: ({ context }) => context.redundantOf === 'peers',
      next: ({ context }, kind: PendingRequest['kind']) => nextRequest(context, ports)?.kind === kind,
      spiFor: ({ event }, purpose: SpiPurpose) => event.type === 'SPI_ALLOCATED' && event.purpose === purpose,
      spiRefusedFor: ({ event }, purpose: SpiPurpose) => event.type === 'SPI_ALLOCATION_FAILED' && event.purpose === purpose,
      peerAsks: ({ event }, kind: PeerRequest['kind']) => peerRequestOf(event)?.kind === kind,
      peerAsksChildSa: ({ event }) => peerRequestOf(event)?.kind === 'new-child' || peerRequestOf(event)?.kind === 'rekey-child',
      peerRejectsOurAuth: ({ event }) => hasNotify(informational(event)?.inner ?? [], NotifyType.AUTHENTICATION_FAILED),
      peerDeletesIkeSa: ({ event }) => readDeletes(informational(event)?.D ?? []).ikeSa,
      peerDeletesChildSas: ({ event }) => readDeletes(informational(event)?.D ?? []).espSpis.length > 0,
      // The argument is destructured only for XState's inference of the guards' parameters.
      newChildSasRefused: ({ context: _ }) => ports.refusingNewSas(),
      childSaLimitReached: ({ context }) => childSaLimitReached(context, ports.config.current().settings),
      childSaRateExceeded: ({ context }) => childSaRateExceeded(context, ports.config.current().settings, ports.clock.now()),
      answeringChildRekey: ({ context }) => context.answering?.kind === 'rekey-child',
      /** The peer rekeys the Child SA our own rekey is working on (2.8.1 when ours is in flight). */
      peerRekeysChildWeRekey: ({ context }) =>
        context.answering?.kind === 'rekey-child' &&
        context.childRekey !== undefined &&
        childByOutboundSpi(context, context.answering.spi)?.params.inboundSpi === context.childRekey.request.inboundSpi,
      deletedByUs: ({ event }) => event.type === 'IKE_SA_HANDED_OVER' && event.deletedBy === 'us',
    },
    actions: {
      /** The one way out to the world: the effect interpreter, after the step. */
      perform: (_, effect: Effect) => ports.effects.perform(effect),
      /**
       * A Child SA actor threw (XState stopped it, and its kernel state has no owner any more): this
       * IKE SA fails too, and the supervisor tears both down (machines/supervisor/failed-ike-sa.ts).
       */
      escalateChildFailure: ({ event }) => {
        if (!event.type.startsWith('xstate.error.actor.')) return;
        const failure = event as Extract<IkeSaEvent, { actorId: string }>;
        const why = failure.error instanceof Error ? failure.error.message : String(failure.error);
        throw new Error(`Child SA actor ${failure.actorId} failed: ${why}`, { cause: failure.error });
      },
      step: enqueueActions(({ context, event, enqueue, self }, params: HandlerParams) => {
        const s = new Step(context, ports);
        runHandler(s, event, params);
        const ctx = s.ctx;
        enqueue.assign(() => ctx);
        for (const o of s.outputs) {
          switch (o.kind) {
            case 'effect':
              enqueue(performAction(o.effect));
              break;
            case 'log':
              enqueue(performAction({ kind: 'log', level: o.level, bindings: logBindings(ctx), fields: o.fields, message: o.message, summary: o.summary }));
              break;
            case 'spawn-child':
              enqueue.spawnChild('childSa', { id: o.input.id, systemId: o.input.id, input: o.input });
              break;
            case 'to-child': {
              // A child that is gone already (it finished) is simply not told.
              const child = self.system.get(o.actorId) as AnyActorRef | undefined;
              if (child !== undefined) enqueue.sendTo(child, o.event);
              break;
            }
            case 'stop-child':
              enqueue.stopChild(o.actorId);
              break;
            case 'to-supervisor':
              enqueue.sendParent(o.event);
              break;
            case 'raise':
              enqueue.raise(o.event);
              break;
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
      DISCARD: { target: '.closing', actions: step('closing.setEndReason') },
      'xstate.error.actor.*': { actions: 'escalateChildFailure' },
      // An SPI that arrives when nobody waits for it any more goes back (established: per region).
      SPI_ALLOCATED: { guard: not(at('established')), actions: step('closing.releaseAllocatedSpi') },
    },
    states: {
      starting: {
        always: [{ guard: 'isInitiator', target: 'ikeSaInit' }, { guard: 'isResponder', target: 'answeringIkeSaInit' }, { target: 'established' }],
      },
      // ---- initiator (RFC 7296 1.2) ----
      ikeSaInit: {
        entry: step('ikeSaInit.start'),
        on: {
          MESSAGE: { actions: step('ikeSaInit.onResponse') },
          RETRANSMIT: { actions: step('request.retransmit') },
          REQUEST_TIMED_OUT: { actions: step('ikeSaInit.onTimeout') },
          IKE_SA_INIT_DONE: [{ guard: 'signsWithCertificate', target: 'ikeAuth.signing' }, { target: 'ikeAuth' }],
          IKE_SA_FAILED: { target: 'closing' },
          TERMINATE: { target: 'closing', actions: step('closing.setEndReason') },
        },
      },
      ikeAuth: {
        initial: 'allocatingSpi',
        on: {
          RETRANSMIT: { actions: step('request.retransmit') },
          REQUEST_TIMED_OUT: { actions: step('ikeAuth.onTimeout') },
          IKE_AUTH_DONE: { target: 'established' },
          IKE_SA_FAILED: { target: 'closing' },
          TERMINATE: { target: 'closing', actions: step('closing.setEndReason') },
        },
        states: {
          signing: {
            entry: step('ikeAuth.sign'),
            on: { SIGNED: { target: 'allocatingSpi', actions: step('ikeAuth.signed') }, SIGNING_FAILED: { actions: step('ikeAuth.signingFailed') } },
          },
          allocatingSpi: {
            entry: step('ikeAuth.requestSpi'),
            on: {
              SPI_ALLOCATED: { guard: spiFor('ike-auth'), actions: step('ikeAuth.send') },
              SPI_ALLOCATION_FAILED: { guard: spiRefusedFor('ike-auth'), actions: step('ikeAuth.noSpi') },
              REQUEST_SENT: { target: 'awaitingResponse' },
            },
          },
          awaitingResponse: { on: { MESSAGE: { actions: step('ikeAuth.onResponse') }, RESPONDER_IDENTIFIED: { target: 'checkingPeer' } } },
          checkingPeer: {
            entry: step('ikeAuth.checkPeer'),
            on: { PEER_CERTIFICATES_CHECKED: { actions: step('ikeAuth.onPeerChecked') } },
          },
        },
      },
      // ---- responder (RFC 7296 1.2) ----
      answeringIkeSaInit: {
        entry: step('ikeSaInit.answer'),
        on: { IKE_SA_INIT_DONE: { target: 'awaitingIkeAuth' }, IKE_SA_FAILED: { target: 'closing' } },
      },
      awaitingIkeAuth: {
        initial: 'waiting',
        on: {
          MESSAGE: { actions: step('ikeAuth.receive') },
          HALF_OPEN_TIMEOUT: { actions: step('ikeAuth.halfOpenTimeout') },
          IKE_AUTH_DONE: { target: 'established' },
          IKE_SA_FAILED: { target: 'closing' },
          TERMINATE: { target: 'closing', actions: step('closing.setEndReason') },
        },
        states: {
          waiting: { on: { IKE_AUTH_RECEIVED: [{ guard: 'checksCertificates', target: 'checkingPeer' }, { target: 'allocatingSpi' }] } },
          checkingPeer: {
            entry: step('ikeAuth.checkPeer'),
            on: { PEER_CERTIFICATES_CHECKED: { actions: step('ikeAuth.onPeerChecked') }, INITIATOR_AUTHENTICATED: { target: 'signing' } },
          },
          signing: {
            entry: step('ikeAuth.sign'),
            on: { SIGNED: { target: 'allocatingSpi', actions: step('ikeAuth.signed') }, SIGNING_FAILED: { actions: step('ikeAuth.signingFailed') } },
          },
          allocatingSpi: {
            entry: step('ikeAuth.requestSpi'),
            on: {
              SPI_ALLOCATED: { guard: spiFor('ike-auth'), actions: step('ikeAuth.respond') },
              SPI_ALLOCATION_FAILED: { guard: spiRefusedFor('ike-auth'), actions: step('ikeAuth.noSpi') },
            },
          },
        },
      },
      established,
      closing: {
        entry: step('closing.begin'),
        initial: 'local',
        on: {
          CHILD_SA_DELETED: { actions: step('child.onDeleted') },
          MESSAGE: { actions: step('closing.answerFromCache') },
          DISCARD: {},
        },
        states: {
          local: {
            on: {
              CHILDREN_GONE: { target: '#ikeSa.closed', actions: step('closing.finish') },
              CLOSE_TIMEOUT: { target: '#ikeSa.closed', actions: step('closing.finish') },
            },
          },
          deletedByPeer: { on: { CHILDREN_GONE: { target: '#ikeSa.lingering' }, CLOSE_TIMEOUT: { target: '#ikeSa.lingering' } } },
        },
      },
      lingering: {
        entry: step('closing.linger'),
        on: { CLOSE_TIMEOUT: { target: 'closed' }, MESSAGE: { actions: step('closing.answerFromCache') }, DISCARD: { target: 'closed' } },
      },
      closed: {
        type: 'final',
        entry: step('closing.close'),
      },
    },
  });
}

export type IkeSaLogic = ReturnType<typeof createIkeSaLogic>;
