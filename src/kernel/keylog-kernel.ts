/**
 * A KernelPort decorator that also writes Wireshark's `esp_sa` key table: after each SA the inner
 * kernel installed, one line with that direction's SPI, addresses, algorithms and keys, so a
 * capture of the ESP traffic can be decrypted (RFC 4303 packets, RFC 3948 when UDP-encapsulated;
 * Wireshark looks UDP-encapsulated ESP up by the same addresses and SPI).
 *
 * The line is written only when the install succeeded, and a line tshark 4.0 would refuse
 * (ChaCha20-Poly1305, AES-CCM, a key of the wrong length) is skipped with a warning: one bad line
 * makes tshark drop the whole table. Writing failures are logged, never turned into a failed
 * install. Deleting an SA leaves its line: the capture still needs it.
 *
 * The IKE SA table (`ikev2_decryption_table`) is written by Ikev2KeylogWriter, re-exported here.
 */
import type { LogPort } from '../ports.js';
import { espSpiHex } from '../wire/spi-text.js';
import { espSaEntryOf } from './esp-sa-entry.js';
import { espSaLine } from './keylog.js';
import { KeylogFile } from './keylog-file.js';
import type { KernelAcquire, KernelPolicy, KernelSa, KernelTrap, SaUsage, TrappingKernelPort } from './kernel-port.js';

export { Ikev2KeylogWriter, type Ikev2KeylogWriterOptions, type IkeSaKeys } from './ikev2-keylog-writer.js';

export interface KeylogKernelOptions {
  /** The esp_sa table file; created with mode 0600. */
  readonly espSaPath: string;
  /**
   * Where skipped lines and write failures are reported (never with keys). Required: a key table
   * that silently misses an SA is worse than none.
   */
  readonly log: LogPort;
}

export class KeylogKernel implements TrappingKernelPort {
  private readonly file: KeylogFile;
  private readonly log: LogPort;
  /**
   * The inner backend's SPI allocation, expires, policies' last use and whole-kernel usage read,
   * passed on as they are (they carry no keys): without readUsage a status would ask SA by SA.
   */
  readonly spis: TrappingKernelPort['spis'];
  readonly onExpire: TrappingKernelPort['onExpire'];
  readonly policyLastUse: TrappingKernelPort['policyLastUse'];
  readonly readUsage: TrappingKernelPort['readUsage'];

  constructor(
    private readonly inner: TrappingKernelPort,
    options: KeylogKernelOptions,
  ) {
    this.log = options.log;
    this.file = new KeylogFile(options.espSaPath, this.log);
    this.spis = inner.spis;
    this.onExpire = inner.onExpire?.bind(inner);
    this.policyLastUse = inner.policyLastUse?.bind(inner);
    this.readUsage = inner.readUsage?.bind(inner);
  }

  async installSa(sa: KernelSa): Promise<void> {
    await this.inner.installSa(sa);
    const fields = { connection: sa.connection, direction: sa.direction, spi: espSpiHex(sa.spi), destination: sa.destination };
    const entry = espSaEntryOf(sa);
    if (!entry.ok) {
      this.log.warn({ ...fields, reason: entry.reason }, 'ESP SA not written to the esp_sa key table');
      return;
    }
    let line: string;
    try {
      line = espSaLine(entry.entry);
    } catch (error) {
      // espSaEntryOf has checked what espSaLine refuses; if it still refuses, the SA stays installed.
      this.log.warn({ ...fields, reason: (error as Error).message }, 'ESP SA not written to the esp_sa key table');
      return;
    }
    await this.file.append(line);
  }

  deleteSa(destination: string, spi: number): Promise<void> {
    return this.inner.deleteSa(destination, spi);
  }

  installPolicy(policy: KernelPolicy): Promise<void> {
    return this.inner.installPolicy(policy);
  }

  deletePolicy(policy: KernelPolicy): Promise<void> {
    return this.inner.deletePolicy(policy);
  }

  usage(destination: string, spi: number): Promise<SaUsage | undefined> {
    return this.inner.usage(destination, spi);
  }

  // Traps carry no keys: nothing for the key table, straight through.
  installTrap(trap: KernelTrap): Promise<void> {
    return this.inner.installTrap(trap);
  }

  deleteTrap(trap: KernelTrap): Promise<void> {
    return this.inner.deleteTrap(trap);
  }

  onAcquire(listener: (acquire: KernelAcquire) => void): () => void {
    return this.inner.onAcquire(listener);
  }

  /** Resolves when every line queued so far is on disk (shutdown, tests). */
  flush(): Promise<void> {
    return this.file.flush();
  }
}
