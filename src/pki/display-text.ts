/**
 * Text from a peer's certificate as ikekm shows it. Names and subjectAltNames are chosen by
 * whoever made the certificate; a control character in one (a newline, an escape sequence) must
 * not forge a log line or drive the terminal of `ikekm pki verify`, so each is shown as \xNN.
 */
export function printable(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
