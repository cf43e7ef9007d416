/**
 * SPIs between their wire form and the forms the rest of ikekm shows and keys tables by.
 *
 * - An IKE SPI is 8 octets (RFC 7296 3.1) and stays octets; as text it is 16 lowercase hex
 *   digits, the form logs, status and Wireshark's ikev2_decryption_table use.
 * - An ESP SPI is 4 octets on the wire (RFC 4303 2.1, RFC 7296 3.3.1 and 3.11) and a 32-bit
 *   unsigned number in the kernel port; as text it is 8 lowercase hex digits, zero-padded, the
 *   form `ip xfrm state` and strongSwan print.
 */

/** The length of an ESP SPI in SA proposals, Notify and Delete payloads (RFC 7296 3.3.1). */
export const ESP_SPI_LENGTH = 4;

const ESP_SPI_HEX = /^(?:0x)?([0-9a-f]{1,8})$/i;

/**
 * Two hex digits per octet value. SPIs are turned into text for every table key, log record and
 * status line (four per Child SA in a status of 100 000): joined from this table it is several
 * times faster than Number#toString(16) with padStart or a Buffer's toString('hex').
 */
const OCTET_HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** An IKE SPI as 16 lowercase hex digits (any length of octets is shown as it is). */
export function ikeSpiHex(spi: Uint8Array): string {
  let text = '';
  for (let i = 0; i < spi.length; i++) text += OCTET_HEX[spi[i]!]!;
  return text;
}

/** An ESP SPI as 8 lowercase hex digits: 0x2000 → `00002000`. */
export function espSpiHex(spi: number): string {
  const n = checkedEspSpi(spi);
  return OCTET_HEX[n >>> 24]! + OCTET_HEX[(n >>> 16) & 0xff]! + OCTET_HEX[(n >>> 8) & 0xff]! + OCTET_HEX[n & 0xff]!;
}

/** An ESP SPI as the 4 octets, big-endian, that go on the wire. */
export function espSpiBuffer(spi: number): Buffer {
  const octets = Buffer.alloc(ESP_SPI_LENGTH);
  octets.writeUInt32BE(checkedEspSpi(spi));
  return octets;
}

/** The 4 wire octets of an ESP SPI as a number; throws RangeError for any other length. */
export function espSpiNumber(octets: Uint8Array): number {
  if (octets.length !== ESP_SPI_LENGTH) throw new RangeError(`an ESP SPI is ${ESP_SPI_LENGTH} octets, got ${octets.length}`);
  return Buffer.from(octets.buffer, octets.byteOffset, octets.length).readUInt32BE(0);
}

/**
 * An ESP SPI from its text: 1 to 8 hex digits, either case, with or without `0x` (strongSwan's
 * vici and Wireshark's esp_sa table write them in these forms). Throws RangeError otherwise.
 */
export function parseEspSpiHex(text: string): number {
  const digits = ESP_SPI_HEX.exec(text)?.[1];
  if (digits === undefined) throw new RangeError(`not an ESP SPI in hex: '${text}'`);
  return Number.parseInt(digits, 16);
}

function checkedEspSpi(spi: number): number {
  if (!Number.isInteger(spi) || spi < 0 || spi > 0xffffffff) throw new RangeError(`an ESP SPI is a 32-bit unsigned number, got ${spi}`);
  return spi;
}
