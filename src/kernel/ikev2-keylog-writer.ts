/**
 * Writes Wireshark's `ikev2_decryption_table`: one line per IKE SA (initial or rekeyed) with its
 * SPIs and SK_e/SK_a keys (RFC 7296 2.14), so the encrypted IKE_AUTH, CREATE_CHILD_SA and
 * INFORMATIONAL exchanges of a capture can be read. Called by the IKE SA machine's effect when
 * the SA is established.
 *
 * As for esp_sa, an SA tshark 4.0 cannot describe (ChaCha20-Poly1305, keys of the wrong length)
 * is skipped with a warning rather than written, and a write failure is logged, not thrown.
 */
import type { LogPort } from '../ports.js';
import type { EncrId, IntegId } from '../wire/iana.js';
import { ikeSpiHex } from '../wire/spi-text.js';
import { ikev2DecryptionTableLine, ikev2EncryptionName, ikev2IntegrityName } from './keylog.js';
import { KeylogFile } from './keylog-file.js';

export interface IkeSaKeys {
  /** RFC 7296 3.1: the 8-octet IKE SA Initiator's and Responder's SPIs. */
  readonly SPIi: Uint8Array;
  readonly SPIr: Uint8Array;
  /** For AEAD (RFC 5282 7.1) and CTR (RFC 5930), key || salt/nonce, as taken from prf+. */
  readonly SK_ei: Uint8Array;
  readonly SK_er: Uint8Array;
  /** Absent or empty for AEAD. */
  readonly SK_ai?: Uint8Array;
  readonly SK_ar?: Uint8Array;
  /** The negotiated ENCR transform and its Key Length attribute (RFC 7296 3.3.5). */
  readonly encryption: { readonly id: EncrId; readonly keyLengthBits?: number };
  /** The negotiated INTEG transform; IntegId.NONE with an AEAD cipher. */
  readonly integrity: IntegId;
}

export interface Ikev2KeylogWriterOptions {
  /** The ikev2_decryption_table file; created with mode 0600. */
  readonly path: string;
  /** Where skipped lines and write failures are reported (never with keys); required as for esp_sa. */
  readonly log: LogPort;
}

export class Ikev2KeylogWriter {
  private readonly file: KeylogFile;
  private readonly log: LogPort;

  constructor(options: Ikev2KeylogWriterOptions) {
    this.log = options.log;
    this.file = new KeylogFile(options.path, this.log);
  }

  /** Appends the line for an established IKE SA; resolves once written (or skipped / failed, both logged). */
  async ikeSaEstablished(keys: IkeSaKeys): Promise<void> {
    const fields = { spiI: ikeSpiHex(keys.SPIi), spiR: ikeSpiHex(keys.SPIr) };
    const encryptionName = ikev2EncryptionName(keys.encryption.id, keys.encryption.keyLengthBits);
    const integrityName = ikev2IntegrityName(keys.integrity);
    if (encryptionName === undefined || integrityName === undefined) {
      const reason =
        encryptionName === undefined
          ? `tshark 4.0 has no ikev2_decryption_table name for ENCR transform ${keys.encryption.id} with key length ${keys.encryption.keyLengthBits ?? 'none'}`
          : `tshark 4.0 has no ikev2_decryption_table name for INTEG transform ${keys.integrity}`;
      this.log.warn({ ...fields, reason }, 'IKE SA not written to the ikev2_decryption_table key table');
      return;
    }
    let line: string;
    try {
      line = ikev2DecryptionTableLine({ ...keys, encryptionName, integrityName });
    } catch (error) {
      // RangeError: a length that does not fit the algorithms (its message names lengths, never key bytes).
      this.log.warn({ ...fields, reason: (error as Error).message }, 'IKE SA not written to the ikev2_decryption_table key table');
      return;
    }
    await this.file.append(line);
  }

  flush(): Promise<void> {
    return this.file.flush();
  }
}
