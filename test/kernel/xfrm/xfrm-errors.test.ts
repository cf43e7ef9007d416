/**
 * errno → KernelError, on the errors the kernel really answered `ip xfrm` with
 * (ip-xfrm-captures.ts): the code a machine branches on, and a message a person can act on.
 */
import { describe, expect, it } from 'vitest';
import { isKernelError } from '../../../src/kernel/kernel-error.js';
import { decodeNetlinkError, decodeNetlinkMessages } from '../../../src/kernel/xfrm/netlink.js';
import { errnoName, kernelErrorFromErrno } from '../../../src/kernel/xfrm/xfrm-errors.js';
import { POLICY_ADD_EXISTING, POLICY_DELETE_ABSENT, POLICY_DELETE_UNPRIVILEGED, STATE_ADD_AEAD, STATE_ADD_CBC_SHA256_ENCAP, STATE_GET_ABSENT, type Capture } from './ip-xfrm-captures.js';

function kernelErrorOf(capture: Capture, request: string) {
  const messages = decodeNetlinkMessages(capture.received[0]!);
  if (!messages.ok) throw messages.error;
  const answer = decodeNetlinkError(messages.value[0]!);
  if (!answer.ok) throw answer.error;
  return kernelErrorFromErrno(answer.value.errno, request, answer.value.kernelMessage);
}

describe('kernelErrorFromErrno', () => {
  it('EPERM (ip xfrm as nobody without capabilities): permission, naming CAP_NET_ADMIN', () => {
    const error = kernelErrorOf(POLICY_DELETE_UNPRIVILEGED, 'delete policy out 10.1.0.0/16 → 10.2.0.0/16');
    expect(isKernelError(error, 'permission')).toBe(true);
    expect(error.message).toBe('delete policy out 10.1.0.0/16 → 10.2.0.0/16: needs CAP_NET_ADMIN (run as root or grant it) (EPERM)');
    expect(error.errno).toBe(1);
  });

  it('EEXIST: exists', () => {
    expect(kernelErrorOf(POLICY_ADD_EXISTING, 'add policy').code).toBe('exists');
  });

  it('ENOENT for a policy and ESRCH for an SA: not-found', () => {
    expect(kernelErrorOf(POLICY_DELETE_ABSENT, 'delete policy').code).toBe('not-found');
    expect(kernelErrorOf(STATE_GET_ABSENT, 'get SA').code).toBe('not-found');
  });

  it('EINVAL: invalid', () => {
    expect(kernelErrorFromErrno(22, 'add SA')).toMatchObject({ code: 'invalid', errno: 22, message: 'add SA: the kernel refused the request as invalid (EINVAL)' });
  });

  it('others: failed, with the errno name and the kernel text', () => {
    expect(kernelErrorOf(STATE_ADD_AEAD, 'add SA 192.0.2.2 SPI 0x11223344')).toMatchObject({
      code: 'failed',
      message: 'add SA 192.0.2.2 SPI 0x11223344: the kernel lacks what it needs for it (an algorithm, or ESP support) (ENOSYS: Requested AEAD algorithm not found)',
    });
    expect(kernelErrorOf(STATE_ADD_CBC_SHA256_ENCAP, 'add SA').message).toBe('add SA: the kernel refused it (EPROTONOSUPPORT: Requested type not found)');
  });

  it('names an errno Node does not know by its number', () => {
    expect(errnoName(105)).toBe('ENOBUFS');
    expect(errnoName(4000)).toBe('errno 4000');
    expect(errnoName(0)).toBe('errno 0');
  });
});
