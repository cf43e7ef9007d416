/**
 * The ports the engine carries effects out through, beyond the ones every runtime has (network,
 * timers, kernel, log; src/ports.ts, src/kernel/kernel-port.ts): where SA events go and where IKE
 * SA keys go when the user asked for a key log. The machines never see
 * these; they emit effects (machines/effects.ts) that the effect interpreter carries out here.
 */
import type { IkeSaKeys } from '../kernel/ikev2-keylog-writer.js';
import type { SaEvent } from '../../machines/effects.js';

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

