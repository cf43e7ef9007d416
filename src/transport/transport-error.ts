/**
 * What can go wrong when the transport sends or delivers a datagram. None of these is thrown out
 * of `send`: one unreachable peer must not crash the engine (the IKE SA's retransmission timer
 * and, finally, its give-up deal with a peer that never answers, RFC 7296 2.1).
 */
import type { Endpoint } from '../ports.js';

export type TransportErrorCode =
  /** No bound socket serves the datagram's local address and port. */
  | 'no-socket'
  /** The remote address is not an IP literal (the transport never resolves names) or the port is out of range. */
  | 'invalid-address'
  /** The remote is IPv6 and the local socket IPv4, or the other way round. */
  | 'family-mismatch'
  /** `send` after `close()`. */
  | 'closed'
  /** The operating system refused the datagram (EHOSTUNREACH, ENETUNREACH, EINVAL, EACCES …); `cause` has the errno. */
  | 'send-failed'
  /** An error event on a bound socket. */
  | 'socket-error'
  /** The `onDatagram` callback threw; the transport carries on with the next datagram. */
  | 'handler-error';

export class TransportError extends Error {
  readonly code: TransportErrorCode;
  readonly local: Endpoint | undefined;
  readonly remote: Endpoint | undefined;

  constructor(code: TransportErrorCode, message: string, where: { local?: Endpoint; remote?: Endpoint; cause?: unknown } = {}) {
    super(message, where.cause === undefined ? undefined : { cause: where.cause });
    this.name = 'TransportError';
    this.code = code;
    this.local = where.local;
    this.remote = where.remote;
  }
}
