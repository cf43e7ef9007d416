/**
 * Every handler the IKE SA chart names, by `procedure.handler`, so the inspector shows which one
 * ran (the `step` action's params). Each is a function of a procedure module under procedures/
 * (or of the shared modules beside this file); see ike-sa.ts for where the chart calls it.
 */
import { onChildDeleted } from './child-records.js';
import type { IkeSaEvent } from './ike-sa-context.js';
import type { Step } from './ike-sa-step.js';
import { intake } from './message-intake.js';
import { awaitSpi, classifyPeerRequest, refuseBusy, refuseBusyWithSpi, refuseForLackOfSpi } from './peer-request.js';
import { retransmit } from './request-window.js';
import * as authCredentials from './procedures/auth-credentials.js';
import * as closing from './procedures/closing.js';
import * as createChild from './procedures/create-child-sa.js';
import * as deleteChild from './procedures/delete-child-sa.js';
import * as deleteIke from './procedures/delete-ike-sa.js';
import * as ikeAuth from './procedures/ike-auth.js';
import * as ikeSaInit from './procedures/ike-sa-init.js';
import * as inService from './procedures/in-service.js';
import * as liveness from './procedures/liveness-check.js';
import * as redundant from './procedures/redundant-ike-sa.js';
import * as rekeyChild from './procedures/rekey-child-sa.js';
import * as rekeyIke from './procedures/rekey-ike-sa.js';

export interface HandlerParams {
  readonly handler: HandlerName;
  /** For `liveness.peerNotResponding`: the procedure whose request went unanswered. */
  readonly what?: string;
}

type Handler = (step: Step, event: IkeSaEvent, params: HandlerParams) => void;

/** Why the kernel gave no inbound SPI (SPI_ALLOCATION_FAILED). */
const refusal = (e: IkeSaEvent): string => (e.type === 'SPI_ALLOCATION_FAILED' ? e.reason : 'no SPI');

const onMessage = (fn: (step: Step, event: Extract<IkeSaEvent, { type: 'MESSAGE' }>) => void): Handler => (step, e) => {
  if (e.type === 'MESSAGE') fn(step, e);
};

/** MESSAGE on an established IKE SA: the window checks and SK (intake), then RESPONSE or PEER_REQUEST. */
const establishedMessage: Handler = (step, e) => {
  if (e.type !== 'MESSAGE') return;
  const incoming = intake(step, e);
  if (incoming === undefined) return;
  if (incoming.kind === 'response') {
    step.raise({ type: 'RESPONSE', response: incoming });
    return;
  }
  const request = classifyPeerRequest(step, incoming);
  if (request !== undefined) step.raise({ type: 'PEER_REQUEST', request });
};

export const HANDLERS = {
  'ikeSaInit.start': (step) => ikeSaInit.start(step),
  'ikeSaInit.onResponse': onMessage(ikeSaInit.onResponse),
  'ikeSaInit.onTimeout': (step) => ikeSaInit.onTimeout(step, 'IKE_SA_INIT'),
  'ikeSaInit.answer': (step) => ikeSaInit.answer(step),
  'ikeAuth.requestSpi': (step) => ikeAuth.requestSpi(step),
  'ikeAuth.send': ikeAuth.send,
  'ikeAuth.onResponse': onMessage(ikeAuth.onResponse),
  'ikeAuth.onTimeout': (step) => ikeSaInit.onTimeout(step, 'IKE_AUTH'),
  'ikeAuth.receive': onMessage(ikeAuth.receive),
  'ikeAuth.respond': ikeAuth.respond,
  'ikeAuth.halfOpenTimeout': (step) => ikeAuth.halfOpenTimeout(step),
  'ikeAuth.noSpi': (step, e) => ikeAuth.noSpi(step, refusal(e)),
  'ikeAuth.sign': (step) => authCredentials.sign(step),
  'ikeAuth.signed': (step, e) => e.type === 'SIGNED' && authCredentials.signed(step, e),
  'ikeAuth.signingFailed': (step, e) => e.type === 'SIGNING_FAILED' && authCredentials.signingFailed(step, e),
  'ikeAuth.checkPeer': (step) => authCredentials.checkPeer(step),
  'ikeAuth.onPeerChecked': (step, e) => e.type === 'PEER_CERTIFICATES_CHECKED' && ikeAuth.onPeerChecked(step, e),
  'ikeAuth.peerRejected': (step, e) => e.type === 'PEER_REQUEST' && ikeAuth.peerRejected(step, e.request),
  'established.message': establishedMessage,
  'request.retransmit': (step, e) => e.type === 'RETRANSMIT' && retransmit(step, e.messageId),
  'peer.refuseBusy': (step, e) => refuseBusy(step, e),
  'peer.awaitSpi': (step, e) => awaitSpi(step, e),
  'peer.refuseBusyWithSpi': (step, e) => refuseBusyWithSpi(step, e),
  'peer.noSpi': (step, e) => refuseForLackOfSpi(step, refusal(e)),
  'inService.enter': (step) => inService.enter(step),
  'createChild.request': createChild.request,
  'createChild.start': (step) => createChild.start(step),
  'createChild.send': createChild.send,
  'createChild.onResponse': createChild.onResponse,
  'createChild.answerPeer': createChild.answerPeer,
  'createChild.admitPeer': createChild.admitPeer,
  'createChild.refuseStopping': createChild.refuseStopping,
  'createChild.refuseBeyondLimit': createChild.refuseBeyondLimit,
  'createChild.refuseTooFast': createChild.refuseTooFast,
  'createChild.noSpi': (step, e) => createChild.noSpi(step, refusal(e)),
  'rekeyChild.requestFromChild': rekeyChild.requestFromChild,
  'rekeyChild.requestByCommand': rekeyChild.requestByCommand,
  'rekeyChild.start': (step) => rekeyChild.start(step),
  'rekeyChild.send': rekeyChild.send,
  'rekeyChild.onResponse': rekeyChild.onResponse,
  'rekeyChild.answerPeer': rekeyChild.answerPeer,
  'rekeyChild.noSpi': (step, e) => rekeyChild.noSpi(step, refusal(e)),
  'rekeyChild.answerPeerCrossingOurs': rekeyChild.answerPeerCrossingOurs,
  'rekeyChild.onInstalled': rekeyChild.onInstalled,
  'deleteChild.requestByCommand': deleteChild.requestByCommand,
  'deleteChild.onExpired': deleteChild.onExpired,
  'deleteChild.onInstallFailed': deleteChild.onInstallFailed,
  'deleteChild.start': (step) => deleteChild.start(step),
  'deleteChild.onResponse': deleteChild.onResponse,
  'deleteChild.answerPeer': deleteChild.answerPeer,
  'child.onDeleted': (step, e) => e.type === 'CHILD_SA_DELETED' && onChildDeleted(step, e.inboundSpi),
  'rekeyIke.request': rekeyIke.request,
  'rekeyIke.start': (step) => rekeyIke.start(step),
  'rekeyIke.onResponse': rekeyIke.onResponse,
  'rekeyIke.onResponseAfterCollision': rekeyIke.onResponseAfterCollision,
  'rekeyIke.answerPeer': rekeyIke.answerPeer,
  'rekeyIke.answerPeerCrossingOurs': rekeyIke.answerPeerCrossingOurs,
  'rekeyIke.peerDidNotNotice': (step) => rekeyIke.peerDidNotNotice(step),
  'deleteIke.terminate': deleteIke.terminate,
  'deleteIke.start': (step) => deleteIke.start(step),
  'deleteIke.onResponse': (step) => deleteIke.onResponse(step),
  'deleteIke.onTimeout': (step) => deleteIke.onTimeout(step),
  'deleteIke.answerPeer': deleteIke.answerPeer,
  'deleteIke.deletedByPeer': (step) => deleteIke.deletedByPeer(step),
  'deleteIke.deletedByPeerAfterRekey': (step) => deleteIke.deletedByPeerAfterRekey(step),
  'liveness.due': (step) => liveness.due(step),
  'liveness.dueWhileBusy': (step) => liveness.dueWhileBusy(step),
  'liveness.start': (step) => liveness.start(step),
  'liveness.onResponse': (step) => liveness.onResponse(step),
  'liveness.peerNotResponding': (step, _e, params) => liveness.peerNotResponding(step, params.what ?? 'request'),
  'liveness.answerPeer': liveness.answerPeer,
  'redundant.deleteOurs': (step) => redundant.deleteOurs(step),
  'redundant.holdPeers': (step) => redundant.holdPeers(step),
  'redundant.predecessorGone': (step) => redundant.predecessorGone(step),
  'redundant.timeout': (step) => redundant.timeout(step),
  'redundant.deletedByPeer': (step) => redundant.deletedByPeer(step),
  'closing.setEndReason': closing.setEndReason,
  'closing.handoverTimeout': (step) => closing.handoverTimeout(step),
  'closing.begin': (step) => closing.begin(step),
  'closing.finish': (step) => closing.finish(step),
  'closing.linger': (step) => closing.linger(step),
  'closing.answerFromCache': closing.answerFromCache,
  'closing.releaseAllocatedSpi': closing.releaseAllocatedSpi,
  'closing.close': (step) => closing.close(step),
} satisfies Record<string, Handler>;

export type HandlerName = keyof typeof HANDLERS;

export function runHandler(step: Step, event: IkeSaEvent, params: HandlerParams): void {
  (HANDLERS[params.handler] as Handler)(step, event, params);
}
