/** Messages as the IKE SA's procedures see them, once opened (message-intake.ts) and classified (peer-request.ts). */
import type { CreateChildSaRequest } from '../../src/ikev2/exchanges/create-child-sa.js';
import type { DeletePayload, Payload } from '../../src/wire/index.js';

/** A protected message that passed the window checks and verified (message-intake.ts). */
export interface Incoming {
  readonly kind: 'request' | 'response';
  readonly exchangeType: number;
  readonly messageId: number;
  readonly inner: Payload[];
}

/**
 * The peer's request on an established IKE SA, classified (peer-request.ts): CREATE_CHILD_SA in
 * its three forms (RFC 7296 1.3.1 new Child SA, 1.3.2 IKE SA rekey, 1.3.3 Child SA rekey) and
 * INFORMATIONAL (1.4); and, in the responder's handshake, IKE_AUTH.
 */
interface PeerRequestBase {
  readonly messageId: number;
  readonly exchangeType: number;
  readonly inner: Payload[];
}

export type PeerRequest =
  | (PeerRequestBase & { readonly kind: 'new-child'; readonly message: CreateChildSaRequest; readonly Ni: Buffer })
  /** `spi`: the SA named in REKEY_SA, by the SPI the peer receives on (our outbound SPI). */
  | (PeerRequestBase & { readonly kind: 'rekey-child'; readonly message: CreateChildSaRequest; readonly Ni: Buffer; readonly spi: number })
  | (PeerRequestBase & { readonly kind: 'rekey-ike'; readonly message: CreateChildSaRequest; readonly Ni: Buffer })
  | (PeerRequestBase & { readonly kind: 'informational'; readonly D: readonly DeletePayload[] })
  /** Responder handshake: the IKE_AUTH request (procedures/ike-auth.ts). */
  | (PeerRequestBase & { readonly kind: 'ike-auth' });
