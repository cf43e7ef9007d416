/**
 * What the stateless handling of a new IKE_SA_INIT request needs of it (RFC 7296 2.6): its
 * header, its nonce Ni and the COOKIE it returns, if any, read without decoding the other
 * payloads (the SA payload's proposals and transforms, KE, the Notifies). Under a flood most
 * requests are answered with a COOKIE or dropped by admission; only those admitted are decoded
 * whole, by `decodeMessage`.
 *
 * The structure is checked as `decodeMessage` checks it (the header, the size and payload count
 * limits, every generic payload header, no trailing octets), with the same ParseErrors, and the
 * COOKIE notify as its decoder checks it (1 to 64 octets, RFC 7296 2.6). The bodies of the other
 * payloads are not looked at: a request whose SA payload is malformed may be answered with a
 * COOKIE, and is dropped as malformed when it returns it and is admitted.
 */
import { PayloadType } from './iana.js';
import { NotifyType } from './notify-types.js';
import type { IkeHeader } from './header.js';
import { readMessageHeader } from './message.js';
import { COOKIE_MAX_LENGTH, COOKIE_MIN_LENGTH } from './notify-data.js';
import { catchParseError, type ParseError } from './parse-error.js';
import { walkPayloadChain } from './payload-chain.js';
import type { Result } from '../result.js';

export interface IkeSaInitPeek {
  readonly header: IkeHeader;
  /** The first Nonce payload's data (a view into the datagram); undefined without one. */
  readonly nonce: Buffer | undefined;
  /** The COOKIE notify's data when it is the first payload (2.6), a view; undefined otherwise. */
  readonly cookie: Buffer | undefined;
}

export function peekIkeSaInitRequest(bytes: Uint8Array): Result<IkeSaInitPeek, ParseError> {
  return catchParseError(() => {
    const { r, header, firstPayloadType } = readMessageHeader(bytes);
    let nonce: Buffer | undefined;
    let cookie: Buffer | undefined;
    let first = true;
    walkPayloadChain(r, firstPayloadType, (type, body) => {
      if (type === PayloadType.Nonce && nonce === undefined) nonce = body.rest();
      if (first && type === PayloadType.N) {
        // Protocol ID, SPI Size, Notify Message Type, SPI, data (3.10); read as decodeNotifyBody does.
        body.skip(1);
        const spiSize = body.u8();
        if (body.u16() === NotifyType.COOKIE) {
          body.skip(spiSize);
          const dataOffset = body.offset;
          const data = body.rest();
          if (data.length < COOKIE_MIN_LENGTH || data.length > COOKIE_MAX_LENGTH) {
            body.fail('bad-notify-data', `COOKIE is ${data.length} octets, not ${COOKIE_MIN_LENGTH}..${COOKIE_MAX_LENGTH}`, dataOffset);
          }
          cookie = data;
        }
      }
      first = false;
    });
    return { header, nonce, cookie };
  });
}
