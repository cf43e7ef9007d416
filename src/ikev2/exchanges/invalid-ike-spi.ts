/**
 * The answer to a request for an IKE SA we do not know (RFC 7296 2.21.4): "the response MUST be
 * sent to the IP address and port from where it came with the same IKE SPIs and the Message ID
 * copied. The response MUST NOT be cryptographically protected and MUST contain an
 * INVALID_IKE_SPI Notify payload." It tells a peer whose SA we lost (a restart) that the SA is
 * gone. We answer as the other end of that SA: the I flag is the request's inverted, R is set,
 * and the exchange type is the request's, as in any response (2.1).
 */
import { NotifyType, encodeMessage, notifyPayload, type IkeHeader } from '../../wire/index.js';

const EMPTY = Buffer.alloc(0);

export function invalidIkeSpiResponse(request: IkeHeader): Buffer {
  return encodeMessage({
    header: {
      spiI: request.spiI,
      spiR: request.spiR,
      majorVersion: 2,
      minorVersion: 0,
      exchangeType: request.exchangeType,
      flags: { initiator: !request.flags.initiator, version: false, response: true },
      messageId: request.messageId,
    },
    payloads: [notifyPayload({ name: 'other', notifyType: NotifyType.INVALID_IKE_SPI, protocolId: 0, spi: EMPTY, data: EMPTY })],
  });
}
