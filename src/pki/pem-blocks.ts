/**
 * PEM (RFC 7468) as certificate and CRL files hold it: blocks between `-----BEGIN LABEL-----` and
 * `-----END LABEL-----`, base64 inside. Blocks are numbered from 1 in file order, every label
 * counted, so an error can say "block 3" of what the user sees in the file.
 */
import { err, ok, type Result } from '../result.js';

export interface PemBlock {
  /** 1-based position among all the file's blocks. */
  readonly block: number;
  readonly label: string;
  readonly der: Buffer;
}

/** Does the text hold PEM at all (rather than being one DER value)? */
export function looksLikePem(content: Buffer): boolean {
  return content.includes('-----BEGIN ');
}

/** The blocks whose label is among `labels`, decoded; an error names the first bad block. */
export function pemBlocks(text: string, labels: readonly string[]): Result<PemBlock[], string> {
  const found: PemBlock[] = [];
  let block = 0;
  let position = 0;
  for (;;) {
    const begin = text.indexOf('-----BEGIN ', position);
    if (begin < 0) return ok(found);
    block++;
    const header = /^-----BEGIN ([A-Z0-9 ]*)-----\r?\n/.exec(text.slice(begin, begin + 100));
    if (header === null) return err(`PEM block ${block}: its BEGIN line is not -----BEGIN LABEL-----`);
    const label = header[1]!;
    const bodyStart = begin + header[0].length;
    const endLine = `-----END ${label}-----`;
    const end = text.indexOf(endLine, bodyStart);
    const nextBegin = text.indexOf('-----BEGIN ', bodyStart);
    if (end < 0 || (nextBegin >= 0 && nextBegin < end)) return err(`PEM block ${block} (${label}) has no ${endLine} line`);
    position = end + endLine.length;
    if (!labels.includes(label)) continue;
    // RFC 7468 3: base64 with line breaks; Buffer.from would skip any other character silently.
    const base64 = text.slice(bodyStart, end).replace(/\s+/g, '');
    if (base64.length === 0 || base64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) return err(`PEM block ${block} (${label}) is not base64`);
    found.push({ block, label, der: Buffer.from(base64, 'base64') });
  }
}
