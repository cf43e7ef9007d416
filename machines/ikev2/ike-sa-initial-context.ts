/** The IKE SA machine's context at its start, from its input (ike-sa-context.ts). */
import { IKE_SPI_LENGTH } from '../../src/wire/index.js';
import { unpooledCopy } from '../../src/wire/unpooled.js';
import type { IkeSaContext, IkeSaInput } from './ike-sa-context.js';

/** Nothing of ours in flight, nothing of the peer's being answered, no procedure's data. */
export const NO_PROCEDURE_DATA = {
  request: undefined,
  answering: undefined,
  childCreation: undefined,
  childRekey: undefined,
  childRekeyAnswer: undefined,
  ikeRekey: undefined,
  childDeletion: undefined,
  ikeDeletion: undefined,
} as const satisfies Partial<IkeSaContext>;

export function initialContext(input: IkeSaInput): IkeSaContext {
  const zero = Buffer.alloc(8);
  const rekeyed = input.rekeyed;
  const role = rekeyed?.security.role ?? (input.kind === 'initiate' ? 'initiator' : 'responder');
  // RFC 7296 3.1: the IKE_SA_INIT request opens with the initiator's SPI.
  // Kept for the SA's life, so in memory of their own (src/wire/unpooled.ts; the engine and the
  // supervisor draw `localSpi` so).
  const spiI = rekeyed?.security.spiI ?? (input.kind === 'initiate' ? input.localSpi : unpooledCopy(input.request?.bytes.subarray(0, IKE_SPI_LENGTH) ?? zero));
  const spiR = rekeyed?.security.spiR ?? (input.kind === 'initiate' ? zero : input.localSpi);
  return {
    id: input.id,
    origin: input.kind,
    initRequest: input.request,
    adopted: rekeyed?.children,
    redundantOf: rekeyed?.redundant,
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
    trigger: input.trigger,
    nat: rekeyed?.nat ?? { supported: false, localBehindNat: false, remoteBehindNat: false },
    peerFragmentation: rekeyed?.peerFragmentation ?? false,
    peerId: rekeyed?.peerId,
    nextRequestId: 0,
    queue: rekeyed?.queue ?? [],
    expectedRequestId: 0,
    lastResponse: undefined,
    ...NO_PROCEDURE_DATA,
    children: [],
    lifetime: undefined,
    establishedAtMs: undefined,
    lastHeardMs: 0,
    counters: { outOfWindow: 0, answeredFromCache: 0, retransmissions: 0, undecryptable: 0 },
    endReason: undefined,
    predecessor: rekeyed?.predecessor,
    reassembly: undefined,
  };
}
