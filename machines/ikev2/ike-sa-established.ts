/**
 * The `established` state of the IKE SA chart (ike-sa.ts): three parallel regions.
 *
 *   window      our requests, one at a time (RFC 7296 2.3): `idle` starts the next queued one in
 *               its procedure's state; the procedure raises REQUEST_DONE when it is finished.
 *   answering   the peer's requests: answered at once, or once our inbound SPI is allocated (and,
 *               for a Child SA rekey, once the new inbound SA is in the kernel).
 *   succession  `current` (in service), `handingOver` (rekeyed, 2.18), `redundant` (2.8.2).
 *
 * XState takes one transition per region for an event, so each event is handled in one region
 * only, or on `established` itself; states of other regions are consulted with `stateIn` guards.
 */
import { and, or, stateIn } from 'xstate';
import type { SpiPurpose } from '../effects.js';
import type { PendingRequest } from './ike-sa-context.js';
import type { HandlerName } from './ike-sa-handlers.js';
import type { PeerRequest } from './ike-sa-messages.js';

export const step = (handler: HandlerName, what?: string) => ({ type: 'step' as const, params: { handler, ...(what === undefined ? {} : { what }) } });
const next = (kind: PendingRequest['kind']) => ({ type: 'next' as const, params: kind });
export const spiFor = (purpose: SpiPurpose) => ({ type: 'spiFor' as const, params: purpose });
export const spiRefusedFor = (purpose: SpiPurpose) => ({ type: 'spiRefusedFor' as const, params: purpose });
const peerAsks = (kind: PeerRequest['kind']) => ({ type: 'peerAsks' as const, params: kind });
export const at = (path: string) => stateIn(`#ikeSa.${path}`);

/** The IKE SA is being rekeyed or replaced: Child SA work waits (2.25). */
const ikeSaBusy = or([at('established.succession.handingOver'), at('established.succession.redundant'), at('established.window.rekeyingIke')]);
/** Our window holds Child SA work or our Delete: the peer's IKE SA rekey waits (2.25). */
const windowBusy = or([at('established.window.creatingChild'), at('established.window.rekeyingChild'), at('established.window.deletingChild'), at('established.window.deletingIke')]);

export const established = {
  type: 'parallel',
  on: {
    MESSAGE: { actions: step('established.message') },
    CHILD_SA_INSTALLED: { actions: step('rekeyChild.onInstalled') },
    CHILD_SA_INSTALL_FAILED: { actions: step('deleteChild.onInstallFailed') },
    CHILD_SA_REKEY_DUE: { actions: step('rekeyChild.requestFromChild') },
    CHILD_SA_EXPIRED: { actions: step('deleteChild.onExpired') },
    CHILD_SA_DELETED: { actions: step('child.onDeleted') },
    IKE_SA_ENDED: { target: 'closing' },
    IKE_SA_DELETED_BY_PEER: [
      { guard: at('established.window.rekeyingIke.simultaneous'), target: 'closing.deletedByPeer', actions: step('rekeyIke.peerDidNotNotice') },
      { guard: at('established.succession.handingOver'), target: 'closing.deletedByPeer', actions: step('deleteIke.deletedByPeerAfterRekey') },
      { guard: at('established.succession.redundant'), target: 'closing.deletedByPeer', actions: step('redundant.deletedByPeer') },
      { target: 'closing.deletedByPeer', actions: step('deleteIke.deletedByPeer') },
    ],
  },
  states: {
    window: {
      initial: 'idle',
      on: {
        RETRANSMIT: { actions: step('request.retransmit') },
        REQUEST_DONE: { target: '.idle' },
        SPI_ALLOCATED: { guard: spiFor('our-request'), actions: step('closing.releaseAllocatedSpi') },
      },
      states: {
        idle: {
          always: [
            { guard: next('create-child'), target: 'creatingChild' },
            { guard: next('rekey-child'), target: 'rekeyingChild' },
            { guard: next('delete-child'), target: 'deletingChild' },
            { guard: next('rekey-ike'), target: 'rekeyingIke' },
            { guard: next('delete-ike'), target: 'deletingIke' },
            { guard: next('liveness'), target: 'checkingLiveness' },
          ],
        },
        creatingChild: {
          entry: step('createChild.start'),
          initial: 'allocatingSpi',
          on: { REQUEST_TIMED_OUT: { actions: step('liveness.peerNotResponding', 'create-child') } },
          states: {
            allocatingSpi: {
              on: {
                SPI_ALLOCATED: { guard: spiFor('our-request'), actions: step('createChild.send') },
                SPI_ALLOCATION_FAILED: { guard: spiRefusedFor('our-request'), actions: step('createChild.noSpi') },
                REQUEST_SENT: { target: 'awaitingResponse' },
              },
            },
            awaitingResponse: { on: { RESPONSE: { actions: step('createChild.onResponse') } } },
          },
        },
        rekeyingChild: {
          entry: step('rekeyChild.start'),
          initial: 'allocatingSpi',
          on: { REQUEST_TIMED_OUT: { actions: step('liveness.peerNotResponding', 'rekey-child') } },
          states: {
            allocatingSpi: {
              on: {
                SPI_ALLOCATED: { guard: spiFor('our-request'), actions: step('rekeyChild.send') },
                SPI_ALLOCATION_FAILED: { guard: spiRefusedFor('our-request'), actions: step('rekeyChild.noSpi') },
                REQUEST_SENT: { target: 'awaitingResponse' },
              },
            },
            awaitingResponse: { on: { RESPONSE: { actions: step('rekeyChild.onResponse') }, CHILD_REKEY_COLLISION: { target: 'simultaneous' } } },
            // The peer rekeys the same Child SA (2.8.1): our response decides which new SA stays.
            simultaneous: { on: { RESPONSE: { actions: step('rekeyChild.onResponse') } } },
          },
        },
        deletingChild: {
          entry: step('deleteChild.start'),
          on: { RESPONSE: { actions: step('deleteChild.onResponse') }, REQUEST_TIMED_OUT: { actions: step('liveness.peerNotResponding', 'delete-child') } },
        },
        rekeyingIke: {
          entry: step('rekeyIke.start'),
          initial: 'awaitingResponse',
          on: { REQUEST_TIMED_OUT: { actions: step('liveness.peerNotResponding', 'rekey-ike') } },
          states: {
            awaitingResponse: { on: { RESPONSE: { actions: step('rekeyIke.onResponse') }, IKE_REKEY_COLLISION: { target: 'simultaneous' } } },
            // The peer rekeys the IKE SA too (2.8.2): our response decides which new SA stays.
            simultaneous: { on: { RESPONSE: { actions: step('rekeyIke.onResponseAfterCollision') } } },
          },
        },
        deletingIke: {
          entry: step('deleteIke.start'),
          on: { RESPONSE: { actions: step('deleteIke.onResponse') }, REQUEST_TIMED_OUT: { actions: step('deleteIke.onTimeout') } },
        },
        checkingLiveness: {
          entry: step('liveness.start'),
          on: { RESPONSE: { actions: step('liveness.onResponse') }, REQUEST_TIMED_OUT: { actions: step('liveness.peerNotResponding', 'liveness') } },
        },
      },
    },
    answering: {
      initial: 'idle',
      on: { SPI_ALLOCATED: { guard: spiFor('peer-request'), actions: step('closing.releaseAllocatedSpi') } },
      states: {
        idle: {
          on: {
            PEER_REQUEST: [
              // CREATE_CHILD_SA rekeying the IKE SA (1.3.2)
              { guard: and([peerAsks('rekey-ike'), or([at('established.succession.handingOver'), at('established.succession.redundant'), windowBusy])]), actions: step('peer.refuseBusy') },
              { guard: and([peerAsks('rekey-ike'), at('established.window.rekeyingIke')]), actions: step('rekeyIke.answerPeerCrossingOurs') },
              { guard: peerAsks('rekey-ike'), actions: step('rekeyIke.answerPeer') },
              // CREATE_CHILD_SA for a Child SA (1.3.1, 1.3.3)
              { guard: and(['peerAsksChildSa', ikeSaBusy]), actions: step('peer.refuseBusy') },
              // No new Child SA while the daemon stops, and limits per IKE SA (3.10.1, 2.25); rekeys pass
              { guard: and([peerAsks('new-child'), 'newChildSasRefused']), actions: step('createChild.refuseStopping') },
              { guard: and([peerAsks('new-child'), 'childSaLimitReached']), actions: step('createChild.refuseBeyondLimit') },
              { guard: and([peerAsks('new-child'), 'childSaRateExceeded']), actions: step('createChild.refuseTooFast') },
              { guard: peerAsks('new-child'), actions: step('createChild.admitPeer') },
              { guard: 'peerAsksChildSa', actions: step('peer.awaitSpi') },
              // INFORMATIONAL (1.4)
              { guard: 'peerRejectsOurAuth', actions: step('ikeAuth.peerRejected') },
              { guard: 'peerDeletesIkeSa', actions: step('deleteIke.answerPeer') },
              { guard: 'peerDeletesChildSas', actions: step('deleteChild.answerPeer') },
              { actions: step('liveness.answerPeer') },
            ],
            PEER_REQUEST_NEEDS_SPI: { target: 'allocatingSpi' },
          },
        },
        allocatingSpi: {
          on: {
            SPI_ALLOCATED: [
              { guard: and([spiFor('peer-request'), ikeSaBusy]), actions: step('peer.refuseBusyWithSpi') },
              { guard: and([spiFor('peer-request'), 'peerRekeysChildWeRekey', at('established.window.rekeyingChild.awaitingResponse')]), actions: step('rekeyChild.answerPeerCrossingOurs') },
              { guard: and([spiFor('peer-request'), 'answeringChildRekey']), actions: step('rekeyChild.answerPeer') },
              { guard: spiFor('peer-request'), actions: step('createChild.answerPeer') },
            ],
            SPI_ALLOCATION_FAILED: { guard: spiRefusedFor('peer-request'), actions: step('peer.noSpi') },
            PEER_REQUEST_ANSWERED: { target: 'idle' },
            ANSWER_AWAITS_INBOUND_SA: { target: 'awaitingInboundSa' },
          },
        },
        // The peer's Child SA rekey (1.3.3): our answer leaves once the new inbound SA is in the
        // kernel (CHILD_SA_INSTALLED), as the peer may send on it as soon as it has the answer (2.8).
        awaitingInboundSa: {
          on: { PEER_REQUEST_ANSWERED: { target: 'idle' } },
        },
      },
    },
    succession: {
      initial: 'entering',
      states: {
        entering: {
          always: [{ guard: 'redundantOurs', target: 'redundant.deletingOurs' }, { guard: 'redundantPeers', target: 'redundant.awaitingPeersDelete' }, { target: 'current' }],
        },
        current: {
          entry: step('inService.enter'),
          on: {
            SOFT_EXPIRE: { actions: step('rekeyIke.request') },
            REKEY_IKE_SA: { actions: step('rekeyIke.request') },
            CREATE_CHILD_SA: { actions: step('createChild.request') },
            REKEY_CHILD_SA: { actions: step('rekeyChild.requestByCommand') },
            DELETE_CHILD_SA: { actions: step('deleteChild.requestByCommand') },
            DPD_DUE: [{ guard: at('established.window.idle'), actions: step('liveness.due') }, { actions: step('liveness.dueWhileBusy') }],
            HARD_EXPIRE: [{ guard: at('established.window.deletingIke') }, { actions: step('deleteIke.terminate') }],
            TERMINATE: [{ guard: at('established.window.deletingIke') }, { actions: step('deleteIke.terminate') }],
            IKE_SA_HANDED_OVER: [{ guard: 'deletedByUs', target: 'handingOver.deletingOld' }, { target: 'handingOver.awaitingDelete' }],
          },
        },
        // Rekeyed (2.18): the Child SAs live on in the new IKE SA; this one only waits to be deleted.
        handingOver: {
          initial: 'awaitingDelete',
          on: {
            HARD_EXPIRE: [{ guard: at('established.window.deletingIke') }, { actions: step('deleteIke.terminate') }],
            TERMINATE: [{ guard: at('established.window.deletingIke') }, { actions: step('deleteIke.terminate') }],
          },
          states: {
            deletingOld: {},
            awaitingDelete: { on: { HANDOVER_TIMEOUT: { target: '#ikeSa.closing', actions: step('closing.handoverTimeout') } } },
          },
        },
        // The SA a simultaneous IKE SA rekey created with the lowest nonce (2.8.2): never up.
        redundant: {
          initial: 'awaitingPeersDelete',
          on: { TERMINATE: { target: '#ikeSa.closing', actions: step('closing.setEndReason') } },
          states: {
            deletingOurs: { entry: step('redundant.deleteOurs') },
            awaitingPeersDelete: {
              entry: step('redundant.holdPeers'),
              on: {
                PREDECESSOR_GONE: { actions: step('redundant.predecessorGone') },
                REDUNDANT_TIMEOUT: { target: '#ikeSa.closing', actions: step('redundant.timeout') },
              },
            },
          },
        },
      },
    },
  },
} as const;
