/**
 * The one error type of the kernel backends, so a Child SA machine can tell "already there" from
 * "gone" from "refused" without parsing messages (the XFRM backend maps EEXIST, ESRCH/ENOENT,
 * EINVAL and EPERM to the same codes, src/kernel/xfrm/xfrm-errors.ts).
 */
export type KernelErrorCode =
  /** An SA with this (destination, SPI), or a policy with this selector and direction, is installed. */
  | 'exists'
  /** No SA with this (destination, SPI), or no such policy. */
  | 'not-found'
  /** The request itself is malformed (an address that is not an IP literal, an SPI out of range…). */
  | 'invalid'
  /** The process may not change the kernel's IPsec state (XFRM needs CAP_NET_ADMIN). */
  | 'permission'
  /** The kernel refused for another reason (an algorithm it lacks, no memory…); the message says which. */
  | 'failed';

export class KernelError extends Error {
  readonly code: KernelErrorCode;
  /** The errno the kernel answered with, when the error came from the kernel. */
  readonly errno: number | undefined;

  constructor(code: KernelErrorCode, message: string, errno?: number) {
    // 'exists' and 'not-found' are answers the callers expect (every Child SA of a road-warrior
    // connection installs the same policy): a stack trace for each was a measurable share of a
    // busy responder's CPU, and no one reads it.
    const stackTraceLimit = Error.stackTraceLimit;
    if (code === 'exists' || code === 'not-found') Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = stackTraceLimit;
    this.name = 'KernelError';
    this.code = code;
    this.errno = errno;
  }
}

export function isKernelError(error: unknown, code?: KernelErrorCode): error is KernelError {
  return error instanceof KernelError && (code === undefined || error.code === code);
}
