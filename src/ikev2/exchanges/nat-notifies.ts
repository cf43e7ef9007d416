/**
 * NAT_DETECTION_SOURCE_IP / NAT_DETECTION_DESTINATION_IP in IKE_SA_INIT (RFC 7296 2.23): the
 * notifies we send, and what the peer's tell us (digests and comparison in src/ikev2/nat-detection.ts).
 */
import type { Endpoint } from '../../ports.js';
import { NotifyType, notifyPayload, type NotifyPayload, type Payload } from '../../wire/index.js';
import { detectNat, natDetectionHash } from '../nat-detection.js';
import { notifiesOf } from './message-rules.js';

/** Our two notifies: the source is our address, the destination the peer's, as we send. */
export function natDetectionNotifies(spiI: Buffer, spiR: Buffer, local: Endpoint, remote: Endpoint): NotifyPayload[] {
  return [
    notifyPayload({ name: 'NAT_DETECTION_SOURCE_IP', hash: natDetectionHash(spiI, spiR, local.address, local.port) }),
    notifyPayload({ name: 'NAT_DETECTION_DESTINATION_IP', hash: natDetectionHash(spiI, spiR, remote.address, remote.port) }),
  ];
}

export interface NatDetection {
  /** The peer supports NAT detection (it sent the notifies). */
  readonly supported: boolean;
  /** Our address as the peer saw it differs from ours: we are behind a NAT. */
  readonly localBehindNat: boolean;
  /** The peer's source address is not what it put in its notify: the peer is behind a NAT. */
  readonly remoteBehindNat: boolean;
}

/** The receiver's view of the peer's notifies; SPIs as in the received message's header. */
export function detectNatFrom(payloads: readonly Payload[], spiI: Buffer, spiR: Buffer, local: Endpoint, remote: Endpoint): NatDetection {
  const sourceHashes = notifiesOf(payloads, NotifyType.NAT_DETECTION_SOURCE_IP).map((n) => n.data);
  const destination = notifiesOf(payloads, NotifyType.NAT_DETECTION_DESTINATION_IP)[0];
  if (sourceHashes.length === 0 && destination === undefined) return { supported: false, localBehindNat: false, remoteBehindNat: false };
  const found = detectNat({
    SPIi: spiI,
    SPIr: spiR,
    local,
    remote,
    sourceHashes,
    ...(destination === undefined ? {} : { destinationHash: destination.data }),
  });
  return { supported: true, ...found };
}
