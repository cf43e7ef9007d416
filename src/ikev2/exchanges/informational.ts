/**
 * INFORMATIONAL (RFC 7296 1.4): deletes, error notifications and liveness checks, inside SK.
 *
 *     HDR, SK {[N,] [D,] [CP,] ...}   -->   <--   HDR, SK {[N,] [D,] [CP], ...}
 *
 * - Delete of the IKE SA (1.4.1): D with Protocol ID IKE and no SPIs; the answer is empty, and
 *   both sides then drop the IKE SA and all its Child SAs.
 * - Delete of Child SAs (1.4.1): D with Protocol ID ESP and our inbound SPIs; the answer carries D
 *   with the responder's inbound SPIs of the same SAs ("a D payload for the other direction").
 * - An empty request is a liveness check (dead-peer detection, 2.4); the answer is empty too.
 * - N(AUTHENTICATION_FAILED) after IKE_AUTH (2.21.2): the initiator could not authenticate us.
 */
import { ESP_SPI_LENGTH, ExchangeType, ProtocolId, deletePayload, espSpiBuffer, espSpiNumber, type DeletePayload, type Payload } from '../../wire/index.js';
import type { MessageRule } from './message-rules.js';

export const INFORMATIONAL_REQUEST = {
  name: 'INFORMATIONAL request',
  rfc: 'RFC 7296 1.4',
  exchangeType: ExchangeType.INFORMATIONAL,
  response: false,
  encrypted: true,
  payloads: { D: 'repeated', CP: 'optional' },
  notifies: [
    { notify: 'AUTHENTICATION_FAILED', meaning: 'the initiator rejected our IKE_AUTH response (2.21.2)' },
    { notify: 'INVALID_SPI', meaning: 'an ESP packet arrived for an unknown SPI (2.21.4)' },
  ],
} as const satisfies MessageRule;

export const INFORMATIONAL_RESPONSE = {
  name: 'INFORMATIONAL response',
  rfc: 'RFC 7296 1.4',
  exchangeType: ExchangeType.INFORMATIONAL,
  response: true,
  encrypted: true,
  payloads: { D: 'repeated', CP: 'optional' },
  notifies: [],
} as const satisfies MessageRule;

export function deleteIkeSaPayloads(): Payload[] {
  return [deletePayload(ProtocolId.IKE, [])];
}

/** D(ESP) with our inbound SPIs (1.4.1: "the SPI ... of the SA as the sender would expect"). */
export function deleteChildSaPayloads(inboundSpis: readonly number[]): Payload[] {
  return inboundSpis.length === 0 ? [] : [deletePayload(ProtocolId.ESP, inboundSpis.map(espSpiBuffer))];
}

export interface DeleteRequest {
  readonly ikeSa: boolean;
  /** ESP SPIs the peer named (their inbound = our outbound). */
  readonly espSpis: readonly number[];
}

export function readDeletes(deletes: readonly DeletePayload[]): DeleteRequest {
  let ikeSa = false;
  const espSpis: number[] = [];
  for (const d of deletes) {
    if (d.protocolId === ProtocolId.IKE) ikeSa = true;
    else if (d.protocolId === ProtocolId.ESP) for (const spi of d.spis) if (spi.length === ESP_SPI_LENGTH) espSpis.push(espSpiNumber(spi));
  }
  return { ikeSa, espSpis };
}
