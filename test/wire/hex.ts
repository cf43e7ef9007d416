/**
 * Byte literals for tests: hex digits with free whitespace and `#` comments to end of line, so
 * a test can lay bytes out like the RFC figures and say what each field is.
 */
export function hex(strings: TemplateStringsArray, ...values: unknown[]): Buffer {
  const text = strings.reduce((acc, s, i) => acc + s + (i < values.length ? String(values[i]) : ''), '');
  const digits = text.replace(/#[^\n]*/g, '').replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(digits)) throw new Error(`bad hex literal: ${digits}`);
  return Buffer.from(digits, 'hex');
}
