/** An IKE SA actor's id (and system id): our SPI of it, which is unique on this node (RFC 7296 2.6). */
import { ikeSpiHex } from '../../src/wire/index.js';

export const ikeSaActorId = (localSpi: Uint8Array): string => `ike-${ikeSpiHex(localSpi)}`;
