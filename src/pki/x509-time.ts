/**
 * The Time of certificates and CRLs (RFC 5280 4.1.2.5): UTCTime through 2049, GeneralizedTime
 * from 2050, both in UTC to the second. Read strictly as RFC 5280 4.1.2.5.1 and 4.1.2.5.2 require
 * them (seconds present, `Z`, no fraction), and printed in one ISO 8601 form for every message.
 */
import forge from 'node-forge';
import { err, ok, type Result } from '../result.js';
import { contentsOf, isUniversal, type Asn1 } from './der.js';

const { Type } = forge.asn1;

/** A UTCTime or GeneralizedTime node to milliseconds since the epoch. */
export function timeOf(node: Asn1): Result<number, string> {
  const octets = contentsOf(node);
  if (octets === undefined) return err('is not a UTCTime or GeneralizedTime');
  const text = octets.toString('latin1');
  if (isUniversal(node, Type.UTCTIME)) {
    const m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
    if (m === null) return err(`UTCTime '${printable(text)}' is not YYMMDDHHMMSSZ (RFC 5280 4.1.2.5.1)`);
    const yy = Number(m[1]);
    // RFC 5280 4.1.2.5.1: YY of 50 or more is 19YY, below 50 is 20YY.
    return utc(yy >= 50 ? 1900 + yy : 2000 + yy, m.slice(2).map(Number), text);
  }
  if (isUniversal(node, Type.GENERALIZEDTIME)) {
    const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
    if (m === null) return err(`GeneralizedTime '${printable(text)}' is not YYYYMMDDHHMMSSZ (RFC 5280 4.1.2.5.2)`);
    return utc(Number(m[1]), m.slice(2).map(Number), text);
  }
  return err('is not a UTCTime or GeneralizedTime');
}

function utc(year: number, [month, day, hour, minute, second]: number[], text: string): Result<number, string> {
  const ms = Date.UTC(year, month! - 1, day, hour, minute, second);
  const date = new Date(ms);
  // Date.UTC rolls 31 April over into May; a time that does not come back unchanged is no date.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month! - 1 || date.getUTCDate() !== day || hour! > 23 || minute! > 59 || second! > 59) {
    return err(`'${text}' is not a date and time`);
  }
  return ok(ms);
}

const printable = (text: string): string => text.replace(/[^\x20-\x7e]/g, '?');

/** `2026-12-05T16:00:00Z`: ISO 8601 to the second, as every message prints a time. */
export function formatTime(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
