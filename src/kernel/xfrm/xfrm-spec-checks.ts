/**
 * Checks on the specs the request builders take. A spec the kernel would refuse (an address that
 * is not an IP literal of its family, a key of the wrong length) is refused here, with a message
 * that names the field, as KernelError('invalid'): the error a KernelPort call rejects with for a
 * malformed request.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { parseIp } from '../../wire/ip-address.js';
import { KernelError } from '../kernel-error.js';
import { AF_INET, AF_INET6 } from './xfrm-constants.js';

/** IP version of the addresses in a struct: 4 (AF_INET) or 6 (AF_INET6). */
export type XfrmFamily = 4 | 6;

export function invalidSpec(message: string): never {
  throw new KernelError('invalid', message);
}

export function checkedUnsigned(value: number, bits: 8 | 16 | 32, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 2 ** bits - 1) invalidSpec(`${what} must be an integer from 0 to ${2 ** bits - 1}, got ${value}`);
  return value;
}

export function familyCode(family: XfrmFamily): number {
  return family === 4 ? AF_INET : AF_INET6;
}

export function familyFromCode(code: number): XfrmFamily | undefined {
  if (code === AF_INET) return 4;
  if (code === AF_INET6) return 6;
  return undefined;
}

/** An xfrm_address_t (16 octets, an IPv4 address in the first 4) from its text; network order. */
export function addressOctets(text: string, family: XfrmFamily, what: string): Buffer {
  const fits = family === 4 ? isIPv4(text) : isIPv6(text);
  const octets = fits ? parseIp(text) : undefined;
  if (octets === undefined) invalidSpec(`${what} '${text}' is not an IPv${family} address`);
  const address = Buffer.alloc(16);
  octets.copy(address);
  return address;
}

export function checkedPrefixLength(length: number, family: XfrmFamily, what: string): number {
  const max = family === 4 ? 32 : 128;
  if (!Number.isInteger(length) || length < 0 || length > max) invalidSpec(`${what} must be from 0 to ${max} for IPv${family}, got ${length}`);
  return length;
}
