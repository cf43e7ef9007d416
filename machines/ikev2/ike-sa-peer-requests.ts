/**
 * The peer's requests on an established IKE SA and our answers: CREATE_CHILD_SA in its three forms
 * (1.3) and INFORMATIONAL (1.4: deletes, liveness checks, AUTHENTICATION_FAILED).
 */
import { acceptChildRequest, type ChildRequestOutcome } from '../../src/ikev2/exchanges/child-sa-negotiation.js';
import { childConfigCandidates, connectionSelectors, selectChildConfig } from '../../src/ikev2/exchanges/connection-policy.js';
import { CREATE_CHILD_SA_REQUEST, acceptIkeRekey, errorNotify, formOf, nonceProblem } from '../../src/ikev2/exchanges/create-child-sa.js';
import { INFORMATIONAL_REQUEST, deleteChildSaPayloads, readDeletes } from '../../src/ikev2/exchanges/informational.js';
import { checkMessage, describeViolation, hasNotify } from '../../src/ikev2/exchanges/message-rules.js';
import { fromWireSelectors, type Selector } from '../../src/policy/traffic-selectors.js';
import { ExchangeType, NotifyType, nameOf, type Payload, type TsPayload } from '../../src/wire/index.js';
import { spiText } from './child-sa.js';
import { childByOutboundSpi, childConnection, deleteChildLocally, spawnChildSa } from './ike-sa-children.js';
import { childSaFailed } from './ike-sa-handshake.js';
import type { Incoming } from './ike-sa-intake.js';
import { fallBackToPeerRekey, handOver } from './ike-sa-rekey.js';
import { sendResponse, type Step } from './ike-sa-step.js';

export function onRequest(step: Step, incoming: Incoming): void {
  switch (incoming.exchangeType) {
    case ExchangeType.CREATE_CHILD_SA:
      onCreateChildSa(step, incoming);
      return;
    case ExchangeType.INFORMATIONAL:
      onInformational(step, incoming);
      return;
    default:
      step.warn({ exchange: nameOf(ExchangeType, incoming.exchangeType) }, 'request of an unexpected exchange on an established IKE SA');
      sendResponse(step, incoming.exchangeType, incoming.messageId, [errorNotify(NotifyType.INVALID_SYNTAX)]);
  }
}

function answer(step: Step, incoming: Incoming, payloads: Payload[]): void {
  sendResponse(step, incoming.exchangeType, incoming.messageId, payloads);
}

function onCreateChildSa(step: Step, incoming: Incoming): void {
  const checked = checkMessage(CREATE_CHILD_SA_REQUEST, incoming.inner);
  if (!checked.ok) {
    step.warn({ problem: describeViolation(checked.error) }, 'malformed CREATE_CHILD_SA request');
    answer(step, incoming, [errorNotify(NotifyType.INVALID_SYNTAX)]);
    return;
  }
  const request = checked.value;
  const form = formOf(request);
  const ctx = step.ctx;
  const Ni = Buffer.from(request.Nonce.data);
  const badNonce = nonceProblem(Ni);
  if (form.kind === 'invalid' || badNonce !== undefined) {
    step.warn({ problem: form.kind === 'invalid' ? form.reason : badNonce }, 'malformed CREATE_CHILD_SA request');
    answer(step, incoming, [errorNotify(NotifyType.INVALID_SYNTAX)]);
    return;
  }
  // RFC 7296 2.25: while the IKE SA is being rekeyed (or was), new work waits; a redundant SA
  // of a rekey collision (2.8.2) is about to be deleted and takes none.
  const ikeRekeyInFlight = ctx.outstanding?.purpose.kind === 'rekey-ike';
  if (ctx.replacedBy !== undefined || ctx.redundant !== undefined || (ikeRekeyInFlight && form.kind !== 'rekey-ike')) {
    answer(step, incoming, [errorNotify(NotifyType.TEMPORARY_FAILURE)]);
    return;
  }
  const conn = step.connection();
  if (conn === undefined) {
    answer(step, incoming, [errorNotify(NotifyType.NO_PROPOSAL_CHOSEN)]);
    return;
  }
  const nonceLength = step.ports.config.current().settings.nonceLength;

  switch (form.kind) {
    case 'rekey-ike': {
      const childWork = ctx.outstanding !== undefined && ctx.outstanding.purpose.kind !== 'rekey-ike' && ctx.outstanding.purpose.kind !== 'liveness';
      if (childWork) {
        answer(step, incoming, [errorNotify(NotifyType.TEMPORARY_FAILURE)]);
        return;
      }
      const r = acceptIkeRekey(ctx.security!, request, conn.ikePolicy.proposalSets, step.ports.random(8), nonceLength, step.ports.registry, step.ports.random);
      if (r.kind === 'refused') {
        step.warn({ reason: r.reason }, 'refused the peer\'s IKE SA rekey');
        answer(step, incoming, [r.notify]);
        return;
      }
      answer(step, incoming, r.responsePayloads);
      if (ikeRekeyInFlight) {
        // Ours crossed theirs (2.8.2): decide when ours completes.
        step.set({ collisions: [...ctx.collisions, { kind: 'ike', security: r.security, Ni: r.Ni, Nr: r.Nr }] });
        step.info({}, 'the peer rekeys the IKE SA while we do: collision');
        return;
      }
      handOver(step, r.security, 'responder');
      return;
    }
    case 'new-child':
    case 'rekey-child': {
      let localTs: readonly Selector[];
      let remoteTs: readonly Selector[];
      let old;
      // The child config: a rekey keeps the replaced SA's; a new Child SA takes the connection
      // (of those sharing this IKE SA's peer, IDs and IKE policy) whose selectors fit (2.9).
      let childConn = conn;
      if (form.kind === 'rekey-child') {
        old = childByOutboundSpi(ctx, form.spi);
        if (old === undefined || old.state === 'deleting') {
          answer(step, incoming, [errorNotify(NotifyType.CHILD_SA_NOT_FOUND)]);
          return;
        }
        if (old.state === 'rekeyed' || old.state === 'installing') {
          answer(step, incoming, [errorNotify(NotifyType.TEMPORARY_FAILURE)]);
          return;
        }
        // A rekey keeps the traffic of the SA it replaces, within our policy.
        localTs = old.params.localTs;
        remoteTs = old.params.remoteTs;
        childConn = childConnection(step, old.params.inboundSpi) ?? conn;
      } else {
        const offered: { TSi: TsPayload | undefined; TSr: TsPayload | undefined } = { TSi: request.TSi, TSr: request.TSr };
        const choice = selectChildConfig(childConfigCandidates(conn, step.ports.config.current().connections), {
          TSi: fromWireSelectors(offered.TSi?.selectors ?? []),
          TSr: fromWireSelectors(offered.TSr?.selectors ?? []),
        });
        if (choice.kind === 'none') {
          answer(step, incoming, [errorNotify(NotifyType.TS_UNACCEPTABLE)]);
          childSaFailed(step, choice.why, 'TS_UNACCEPTABLE');
          return;
        }
        childConn = choice.connection;
        step.info({ childConnection: childConn.name, why: choice.why }, 'new Child SA: connection chosen by traffic selectors');
        const ts = connectionSelectors(childConn);
        localTs = ts.local;
        remoteTs = ts.remote;
      }
      const Nr = step.ports.random(nonceLength);
      const outcome: ChildRequestOutcome = acceptChildRequest({
        sa: ctx.security!,
        sets: childConn.dataPolicy.proposalSets,
        inIkeAuth: false,
        localTs,
        remoteTs,
        mode: childConn.dataPolicy.mode,
        Ni,
        Nr,
        SA: request.SA,
        KE: request.KE,
        TSi: request.TSi!,
        TSr: request.TSr!,
        payloads: incoming.inner,
        registry: step.ports.registry,
        random: step.ports.random,
        responseNonce: Nr,
        allocateSpi: step.allocateSpi,
      });
      if (outcome.kind === 'refused') {
        answer(step, incoming, [outcome.notify]);
        childSaFailed(step, outcome.reason, nameOf(NotifyType, outcome.notify.notifyType));
        return;
      }
      answer(step, incoming, outcome.responsePayloads);
      spawnChildSa(step, outcome.params, old?.params.inboundSpi, childConn.name);
      if (old !== undefined && old.state === 'rekeying') {
        step.set({
          collisions: [
            ...step.ctx.collisions,
            { kind: 'child', oldInboundSpi: old.params.inboundSpi, peerCreated: outcome.params.inboundSpi, Ni, Nr },
          ],
        });
        step.info({ childSa: spiText(old.params.inboundSpi) }, 'the peer rekeys a Child SA we are rekeying: collision');
      }
      return;
    }
  }
}

function onInformational(step: Step, incoming: Incoming): void {
  const checked = checkMessage(INFORMATIONAL_REQUEST, incoming.inner);
  if (!checked.ok) {
    answer(step, incoming, [errorNotify(NotifyType.INVALID_SYNTAX)]);
    return;
  }
  if (hasNotify(incoming.inner, NotifyType.AUTHENTICATION_FAILED)) {
    answer(step, incoming, []);
    step.set({ endReason: 'the peer did not accept our authentication (AUTHENTICATION_FAILED)' });
    step.error({ notify: 'AUTHENTICATION_FAILED' }, 'the peer rejected our IKE_AUTH response');
    step.raise({ type: 'IKE_SA_ENDED' });
    return;
  }
  const deletes = readDeletes(checked.value.D);
  if (deletes.ikeSa) {
    // RFC 7296 1.4.1: an empty answer, then the IKE SA and its Child SAs are gone.
    answer(step, incoming, []);
    // A rekey of the peer's crossed ours and the peer now deletes the old SA before our rekey
    // completed: the peer did not notice the collision (our request reached it after it had
    // finished its own, or it won and deleted first). Its new SA is the survivor (2.8.2) and our
    // Child SAs go there, not away; our exchange never completes, so we never have its SA (the
    // peer drops what it created for us, as we do, REDUNDANT_GRACE_MS after the old SA is gone).
    if (step.ctx.replacedBy === undefined && fallBackToPeerRekey(step)) {
      step.info({}, 'the peer deleted the old IKE SA during our rekey: it did not notice the collision; abort our rekey, its new IKE SA is the one (RFC 7296 2.8.2)');
    }
    step.info({}, step.ctx.redundant === 'peers' ? 'the peer deleted the redundant IKE SA it created (RFC 7296 2.8.2)' : 'the peer deleted the IKE SA');
    step.set({ endReason: step.ctx.replacedBy !== undefined ? 'rekeyed' : 'deleted by the peer', lingerAfterClose: true });
    step.raise({ type: 'IKE_SA_ENDED' });
    return;
  }
  const ours: number[] = [];
  for (const spi of deletes.espSpis) {
    const r = childByOutboundSpi(step.ctx, spi);
    if (r === undefined) continue;
    ours.push(r.params.inboundSpi);
    deleteChildLocally(step, r, 'deleted by the peer');
  }
  if (deletes.espSpis.length > 0) step.info({ peerSpis: deletes.espSpis.map(spiText), ours: ours.map(spiText) }, 'the peer deleted Child SAs');
  // Our answer names our inbound SPIs of the same SAs (1.4.1).
  answer(step, incoming, deleteChildSaPayloads(ours));
}
