/**
 * NAT detection (RFC 7296 2.23): NAT_DETECTION_SOURCE_IP and NAT_DETECTION_DESTINATION_IP carry
 * "the SHA-1 digest of the SPIs (in the order they appear in the header), IP address, and port
 * from which this packet was sent" (resp. to which it was sent). In the IKE_SA_INIT request the
 * responder's SPI is still zero, so both sides hash SPIr = 0 there; in the response, SPIr is the
 * responder's SPI as the header carries it. The caller passes the SPIs exactly as in the header.
 */
import { createHash } from 'node:crypto';
import { parseIp } from '../wire/ip-address.js';
import type { Endpoint } from '../ports.js';

/** SHA-1(SPIi | SPIr | IP | Port): IP as 4 or 16 octets, Port as 2 octets, network byte order. */
export function natDetectionHash(SPIi: Buffer, SPIr: Buffer, address: string, port: number): Buffer {
  const ip = parseIp(address);
  if (ip === undefined) throw new RangeError(`not an IP address: ${address}`);
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new RangeError(`not a UDP port: ${port}`);
  const portOctets = Buffer.alloc(2);
  portOctets.writeUInt16BE(port);
  return createHash('sha1').update(SPIi).update(SPIr).update(ip).update(portOctets).digest();
}

export interface NatDetectionInput {
  readonly SPIi: Buffer;
  readonly SPIr: Buffer;
  /** Our address and port as the received packet's IP/UDP header gives them (its destination). */
  readonly local: Endpoint;
  /** The peer's address and port as the received packet's header gives them (its source). */
  readonly remote: Endpoint;
  /** The peer's NAT_DETECTION_SOURCE_IP data: one per address it may send from (2.23 allows several). */
  readonly sourceHashes: readonly Buffer[];
  /** The peer's NAT_DETECTION_DESTINATION_IP data, if it sent one. */
  readonly destinationHash?: Buffer;
}

/**
 * RFC 7296 2.23: "If none of the NAT_DETECTION_SOURCE_IP payload(s) received matches the expected
 * value of the source IP and port found from the IP header of the packet containing the payload,
 * it means that the system sending those payloads is behind a NAT" → remoteBehindNat. "If the
 * NAT_DETECTION_DESTINATION_IP payload received does not match the expected value of the
 * destination IP and port found from the IP header ..., it means that the system receiving the
 * NAT_DETECTION_DESTINATION_IP payload is behind a NAT" → localBehindNat.
 * A peer that sent no such payloads does not support NAT-T: nothing is detected (both false).
 */
export function detectNat(input: NatDetectionInput): { localBehindNat: boolean; remoteBehindNat: boolean } {
  const { SPIi, SPIr, local, remote } = input;
  const expectedSource = natDetectionHash(SPIi, SPIr, remote.address, remote.port);
  const remoteBehindNat = input.sourceHashes.length > 0 && !input.sourceHashes.some((h) => h.equals(expectedSource));
  const localBehindNat =
    input.destinationHash !== undefined && !input.destinationHash.equals(natDetectionHash(SPIi, SPIr, local.address, local.port));
  return { localBehindNat, remoteBehindNat };
}
