/** The supervisor's context and events (supervisor.ts). */
import type { TriggerSelectors } from '../../src/ikev2/exchanges/connection-policy.js';
import type { Datagram } from '../../src/ports.js';
import type { IkeSaEvent, IkeSaReport } from '../ikev2/ike-sa-context.js';

export interface SupervisorCounters {
  datagrams: number;
  malformed: number;
  unknownSpi: number;
  noConnection: number;
  cookiesSent: number;
  refusedLimits: number;
  created: number;
  closed: number;
}

export interface IkeSaEntry {
  readonly id: string;
  readonly localSpi: string;
  connection: string | undefined;
  peerId: string | undefined;
  established: boolean;
  /** Key of the IKE_SA_INIT that created a responder (remote address, port, SPIi). */
  readonly initKey: string | undefined;
}

export interface SupervisorContext {
  /** Our SPI (hex) → IKE SA actor system id. */
  readonly bySpi: Map<string, string>;
  /** IKE SA id → what the supervisor knows of it. */
  readonly entries: Map<string, IkeSaEntry>;
  /** (remote, SPIi) of IKE_SA_INIT requests → responder actor, so retransmissions reach it (2.1). */
  readonly byInit: Map<string, string>;
  /** Responder SAs that have not completed IKE_AUTH (2.6 half-open). */
  readonly halfOpen: Set<string>;
  readonly counters: SupervisorCounters;
}

export type SupervisorEvent =
  | { type: 'DATAGRAM'; datagram: Datagram }
  | { type: 'INITIATE'; connection: string; localSpi: Buffer; trigger?: TriggerSelectors | undefined }
  | { type: 'TERMINATE'; connection?: string; id?: string; reason: string }
  | { type: 'TERMINATE_ALL'; reason: string }
  | { type: 'DISCARD_ALL'; reason: string }
  /** Engine stop: every IKE SA actor (and with it its Child SA actors) stopped, the table emptied. */
  | { type: 'STOP_ALL' }
  | { type: 'TO_IKE_SA'; id: string; event: IkeSaEvent }
  | IkeSaReport;
