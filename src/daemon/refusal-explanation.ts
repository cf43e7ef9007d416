/**
 * When the peer refuses our offer (NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE, AUTHENTICATION_FAILED),
 * the engine's record says only what the peer answered: the daemon adds what we offered, so one
 * log line on each side shows both halves (the responder's engine logs what it received and
 * what it has configured). Never a secret: proposals, selectors, IDs and the method only.
 */
import type { ConnectionConfig } from '../config/model.js';
import { formatIdentity } from '../config/model.js';
import type { SaEvent } from '../engine/engine-ports.js';

type Failure = Extract<SaEvent, { kind: 'ike-sa-failed' | 'child-sa-failed' }>;

export interface RefusalExplanation {
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

export function explainRefusal(event: Failure, connection: ConnectionConfig | undefined): RefusalExplanation | undefined {
  // The engine already gave both sides (it was the responder and compared with its configuration).
  if (connection === undefined || event.reason.includes('configured') || event.reason.includes('(method ')) return undefined;
  const base = { connection: event.connection, notify: event.notify, reason: event.reason };
  switch (event.notify) {
    case 'NO_PROPOSAL_CHOSEN':
      return event.kind === 'ike-sa-failed'
        ? { fields: { ...base, offered: connection.ikePolicy.proposals, ikePolicy: connection.ikePolicy.name }, message: 'the peer accepted none of our IKE proposals (its log lists its own)' }
        : { fields: { ...base, offered: connection.dataPolicy.proposals, dataPolicy: connection.dataPolicy.name }, message: 'the peer accepted none of our ESP proposals (its log lists its own)' };
    case 'TS_UNACCEPTABLE':
      return { fields: { ...base, offeredLocal: connection.traffic.local, offeredRemote: connection.traffic.remote }, message: 'the peer refused our traffic selectors (its log lists its own)' };
    case 'AUTHENTICATION_FAILED':
      return {
        fields: { ...base, method: 'PSK', localId: formatIdentity(connection.local.id), expectedRemoteId: formatIdentity(connection.remote.id) },
        message: 'authentication failed: check that both sides use the same PSK and these IDs',
      };
    default:
      return undefined;
  }
}
