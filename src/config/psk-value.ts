/**
 * The forms a PSK is written in, and the rules it must meet. Messages give lengths and forms,
 * never the key.
 *
 * - Text: the UTF-8 bytes of the string, 8 to 128 characters.
 * - `0x` followed by hex digits, or `0s` followed by base64 (either case of the prefix): raw
 *   bytes, as strongSwan's swanctl.conf `secret` (load_creds.c: strcasepfx "0x" / "0s"), so a
 *   secret copies across unchanged. 8 to 128 bytes. A text key that itself begins with 0x or 0s
 *   must be written in hex.
 * - A PSK file that is UTF-8 text (no control characters but one final newline, which editors
 *   add and which is dropped) is read as if written inline: text, 0x or 0s. Any other file is
 *   the key byte for byte (`head -c 32 /dev/urandom > key.psk`), 8 to 128 bytes.
 * - Never one character (or byte) repeated: that is a placeholder or a zero-filled file.
 */
import { isUtf8 } from 'node:buffer';
import { err, ok, type Result } from '../result.js';

export const PSK_MIN = 8;
export const PSK_MAX = 128;

/** An inline PSK (or a text PSK file without its final newline) → the key's bytes. */
export function pskFromText(text: string): Result<Buffer, string> {
  const prefix = text.slice(0, 2).toLowerCase();
  if (prefix === '0x') {
    const hex = text.slice(2);
    if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) return err('psk starts with 0x (hex) but is not followed by an even number of hex digits');
    return checkBytes(Buffer.from(hex, 'hex'), 'hex');
  }
  if (prefix === '0s') {
    const b64 = text.slice(2);
    const bytes = Buffer.from(b64, 'base64');
    // Node's decoder skips what it does not know; re-encoding tells a clean value from one it skipped.
    if (b64 === '' || bytes.toString('base64').replace(/=+$/, '') !== b64.replace(/=+$/, '') || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) {
      bytes.fill(0);
      return err('psk starts with 0s (base64) but is not followed by base64');
    }
    return checkBytes(bytes, 'base64');
  }
  const chars = [...text];
  if (chars.length < PSK_MIN || chars.length > PSK_MAX) return err(`psk must be ${PSK_MIN} to ${PSK_MAX} characters; got ${chars.length}`);
  if (new Set(chars).size === 1) return err('psk must not be one character repeated');
  return ok(Buffer.from(text, 'utf8'));
}

/** A PSK file's bytes → the key's bytes (text as inline, anything else as it is). */
export function pskFromFile(content: Buffer): Result<Buffer, string> {
  const text = textOf(content);
  if (text !== undefined) return pskFromText(text);
  return checkBytes(Buffer.from(content), 'raw');
}

/** The file as text without its final newline, if it is text; undefined for binary content. */
function textOf(content: Buffer): string | undefined {
  if (!isUtf8(content)) return undefined;
  const text = content.toString('utf8').replace(/\r?\n$/, '');
  // Any other control character but a tab (a NUL, an inner newline) makes it binary: taken byte for byte.
  return /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/.test(text) ? undefined : text;
}

function checkBytes(bytes: Buffer, form: 'hex' | 'base64' | 'raw'): Result<Buffer, string> {
  const what = form === 'raw' ? 'psk file (binary)' : `psk (${form})`;
  let problem: string | undefined;
  if (bytes.length < PSK_MIN || bytes.length > PSK_MAX) problem = `${what} must be ${PSK_MIN} to ${PSK_MAX} bytes; got ${bytes.length}`;
  else if (bytes.every((b) => b === bytes[0])) problem = `${what} must not be one byte repeated`;
  if (problem === undefined) return ok(bytes);
  bytes.fill(0);
  return err(problem);
}
