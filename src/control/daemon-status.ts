/**
 * The status JSON of `ikekm status --json` and of the control socket's `status` command. These
 * field names are a stable interface for scripts (documented in README.md, "Status JSON"): add
 * fields, never rename or remove them.
 *
 * Times are whole seconds relative to the moment of the status call, so a script needs no clock
 * of its own; `null` when the SA has no such deadline (yet).
 */

/** Algorithm names as strongSwan's proposal keywords (`aes256gcm16`, `sha256`, `prfsha384`, `ecp384`). */
export interface IkeAlgorithms {
  readonly encryption: string;
  /** Absent with an AEAD cipher (RFC 5282 8). */
  readonly integrity?: string;
  readonly prf: string;
  readonly dh: string;
}

export interface ChildAlgorithms {
  readonly encryption: string;
  /** Absent with an AEAD cipher. */
  readonly integrity?: string;
  /** The PFS group of the CREATE_CHILD_SA that made this SA; absent without PFS (and for the first Child SA). */
  readonly dh?: string;
  /** Extended sequence numbers (RFC 4303 2.2.1). */
  readonly esn: boolean;
}

export type IkeSaStateName = 'CONNECTING' | 'ESTABLISHED' | 'DELETING';
export type ChildSaStateName = 'INSTALLING' | 'INSTALLED' | 'REKEYING' | 'REKEYED' | 'DELETING';

export interface ChildSaStatusJson {
  readonly state: ChildSaStateName;
  readonly mode: 'tunnel' | 'transport';
  /** Our inbound SPI and the peer's (outbound), 8 lowercase hex digits. */
  readonly spiIn: string;
  readonly spiOut: string;
  readonly algorithms: ChildAlgorithms;
  /** Traffic selectors as negotiated, e.g. `198.51.100.0/24` (with `[proto/port]` when narrowed). */
  readonly localTs: readonly string[];
  readonly remoteTs: readonly string[];
  /** Octets through the inbound and outbound SA, as the kernel counts them. */
  readonly bytesIn: number;
  readonly bytesOut: number;
  /**
   * Since traffic last used the inbound policies (in, fwd) and the outbound one, as the kernel
   * stamps them (strongSwan's "Xs ago"); `null` when never, or when the backend cannot tell.
   */
  readonly lastInSeconds: number | null;
  readonly lastOutSeconds: number | null;
  readonly establishedSeconds: number | null;
  readonly rekeySeconds: number | null;
  readonly expiresSeconds: number | null;
}

export interface IkeSaStatusJson {
  readonly connection: string | null;
  /** The peer's IKE endpoint (port 4500 once NAT-T floated) and the ID it authenticated with. */
  readonly peer: { readonly address: string; readonly port: number; readonly id: string | null };
  readonly state: IkeSaStateName;
  readonly role: 'initiator' | 'responder';
  /** IKE SA SPIs (RFC 7296 3.1), 16 lowercase hex digits; spiR is all zeros until the responder answered. */
  readonly spiI: string;
  readonly spiR: string;
  /** `null` until IKE_SA_INIT chose the transforms. */
  readonly algorithms: IkeAlgorithms | null;
  readonly establishedSeconds: number | null;
  readonly rekeySeconds: number | null;
  readonly expiresSeconds: number | null;
  /** A NAT was detected on either side (RFC 7296 2.23): IKE and ESP use UDP 4500. */
  readonly natDetected: boolean;
  readonly childSas: readonly ChildSaStatusJson[];
}

export interface DaemonStatus {
  readonly ikeSas: readonly IkeSaStatusJson[];
}
