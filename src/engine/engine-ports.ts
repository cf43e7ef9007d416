/**
 * The ports the engine carries effects out through, beyond the ones every runtime has (network,
 * timers, kernel, log; src/ports.ts, src/kernel/kernel-port.ts): where SA events go and where IKE
 * SA keys go when the user asked for a key log. The machines never see
 * these; they emit effects (machines/effects.ts) that the effect interpreter carries out here.
 */
import type { IkeSaKeys } from '../kernel/ikev2-keylog-writer.js';
import type { SaEvent } from '../../machines/effects.js';
import type { PeerCertificateVerdict } from '../ikev2/peer-certificates.js';
import type { SignatureScheme } from '../pki/signature-algorithm.js';
import type { Identity } from '../wire/index.js';

export type { SaEvent };
export type { SpiAllocator } from '../kernel/kernel-port.js';

export interface SaEventSink {
  report(event: SaEvent): void;
}

/**
 * Where the keys of every established IKE SA (initial or rekeyed) go when the user asked for a
 * key log (Wireshark's ikev2_decryption_table): `Ikev2KeylogWriter` fits. Optional.
 */
export interface IkeKeylogPort {
  ikeSaEstablished(keys: IkeSaKeys): void | Promise<void>;
}


/**
 * Signature authentication's two asynchronous steps (machines/effects.ts `sign`,
 * `check-peer-certificates`): the private keys live here, never in a machine; the peer's
 * certificates are checked here against the connection's CAs and CRLs. Default: the
 * configuration's own keys and trust (config-credentials.ts). A rejected promise is a failure
 * the machine is told of, not a crash.
 */
export interface CredentialPort {
  sign(connection: string, scheme: SignatureScheme, octets: Buffer): Promise<Buffer>;
  checkPeerCertificates(connection: string, certificates: readonly Buffer[], peerId: Identity, atMs: number): Promise<PeerCertificateVerdict>;
}
