/**
 * The four IKEv2 exchanges of RFC 7296, each in one place: the rules of its request and response
 * (which payloads must be there, which may) and what may follow it. The modules next to this one
 * hold the builders and checkers of each.
 *
 *   IKE_SA_INIT (1.2)      → IKE_AUTH
 *   IKE_AUTH (1.2)         → CREATE_CHILD_SA, INFORMATIONAL (the IKE SA is established)
 *   CREATE_CHILD_SA (1.3)  → CREATE_CHILD_SA, INFORMATIONAL
 *   INFORMATIONAL (1.4)    → CREATE_CHILD_SA, INFORMATIONAL (none after a Delete of the IKE SA)
 */
import { CREATE_CHILD_SA_REQUEST, CREATE_CHILD_SA_RESPONSE } from './create-child-sa.js';
import { IKE_AUTH_REQUEST, IKE_AUTH_RESPONSE } from './ike-auth.js';
import { IKE_SA_INIT_REQUEST, IKE_SA_INIT_RESPONSE } from './ike-sa-init.js';
import { INFORMATIONAL_REQUEST, INFORMATIONAL_RESPONSE } from './informational.js';
import type { MessageRule } from './message-rules.js';

export type ExchangeName = 'IKE_SA_INIT' | 'IKE_AUTH' | 'CREATE_CHILD_SA' | 'INFORMATIONAL';

export interface ExchangeDescription {
  readonly rfc: string;
  readonly request: MessageRule;
  readonly response: MessageRule;
  /** Exchanges that may come after this one on the same IKE SA. */
  readonly next: readonly ExchangeName[];
}

export const EXCHANGES: Readonly<Record<ExchangeName, ExchangeDescription>> = {
  IKE_SA_INIT: { rfc: 'RFC 7296 1.2', request: IKE_SA_INIT_REQUEST, response: IKE_SA_INIT_RESPONSE, next: ['IKE_AUTH'] },
  IKE_AUTH: { rfc: 'RFC 7296 1.2', request: IKE_AUTH_REQUEST, response: IKE_AUTH_RESPONSE, next: ['CREATE_CHILD_SA', 'INFORMATIONAL'] },
  CREATE_CHILD_SA: {
    rfc: 'RFC 7296 1.3',
    request: CREATE_CHILD_SA_REQUEST,
    response: CREATE_CHILD_SA_RESPONSE,
    next: ['CREATE_CHILD_SA', 'INFORMATIONAL'],
  },
  INFORMATIONAL: {
    rfc: 'RFC 7296 1.4',
    request: INFORMATIONAL_REQUEST,
    response: INFORMATIONAL_RESPONSE,
    next: ['CREATE_CHILD_SA', 'INFORMATIONAL'],
  },
};
