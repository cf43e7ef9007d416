/**
 * From the errno of an NLMSG_ERROR to the KernelError a backend call rejects with, so the machines
 * can tell "already there" (EEXIST: NEWSA or NEWPOLICY over an existing one) from "gone" (ESRCH
 * for an SA, ENOENT for a policy) from "refused" (EINVAL) from "not allowed" (EPERM: every XFRM
 * request needs CAP_NET_ADMIN). Errno numbers are Linux's (asm-generic/errno-base.h, asm-generic/errno.h).
 */
import { getSystemErrorName } from 'node:util';
import { KernelError, type KernelErrorCode } from '../kernel-error.js';

const EPERM = 1;
const ENOENT = 2;
const ESRCH = 3;
const EEXIST = 17;
const EINVAL = 22;
const ENOSYS = 38;

/**
 * `request` says what was asked ("add SA 192.0.2.2 SPI 0x11223344"); `kernelMessage` is the
 * kernel's extended-ack text, when it sent one.
 */
export function kernelErrorFromErrno(errno: number, request: string, kernelMessage?: string): KernelError {
  const name = errnoName(errno);
  const said = kernelMessage === undefined || kernelMessage === '' ? '' : `: ${kernelMessage}`;
  const error = (code: KernelErrorCode, why: string): KernelError => new KernelError(code, `${request}: ${why} (${name}${said})`, errno);
  switch (errno) {
    case EPERM:
      return error('permission', 'needs CAP_NET_ADMIN (run as root or grant it)');
    case EEXIST:
      return error('exists', 'already installed');
    case ENOENT:
    case ESRCH:
      return error('not-found', 'not installed');
    case EINVAL:
      return error('invalid', 'the kernel refused the request as invalid');
    case ENOSYS:
      return error('failed', 'the kernel lacks what it needs for it (an algorithm, or ESP support)');
    default:
      return error('failed', 'the kernel refused it');
  }
}

/** EPERM, ENOBUFS…; the number itself when Node has no name for it. */
export function errnoName(errno: number): string {
  if (!Number.isInteger(errno) || errno <= 0) return `errno ${errno}`;
  const name = getSystemErrorName(-errno);
  return name.startsWith('Unknown') ? `errno ${errno}` : name;
}
