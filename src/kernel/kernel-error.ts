/**
 * The one error type of the kernel backends, so a Child SA machine can tell "already there" from
 * "gone" from "refused" without parsing messages (the XFRM backend maps EEXIST, ESRCH/ENOENT and
 * EINVAL to the same codes).
 */
export type KernelErrorCode =
  /** An SA with this (destination, SPI), or a policy with this selector and direction, is installed. */
  | 'exists'
  /** No SA with this (destination, SPI), or no such policy. */
  | 'not-found'
  /** The request itself is malformed (an address that is not an IP literal, an SPI out of range…). */
  | 'invalid';

export class KernelError extends Error {
  readonly code: KernelErrorCode;

  constructor(code: KernelErrorCode, message: string) {
    super(message);
    this.name = 'KernelError';
    this.code = code;
  }
}

export function isKernelError(error: unknown, code?: KernelErrorCode): error is KernelError {
  return error instanceof KernelError && (code === undefined || error.code === code);
}
