/** Assertion for the error side of a decoder `Result`: code, absolute offset and payload type. */
import { expect } from 'vitest';
import { ParseError, type ParseErrorCode } from '../../src/wire/parse-error.js';
import type { Result } from '../../src/result.js';

export function expectParseError(
  result: Result<unknown, ParseError>,
  expected: { code: ParseErrorCode; offset: number; payloadType: number | undefined },
): ParseError {
  if (result.ok) throw new Error(`expected ParseError ${expected.code}, decoded ${JSON.stringify(result.value)}`);
  const e = result.error;
  expect(e).toBeInstanceOf(ParseError);
  expect({ code: e.code, offset: e.offset, payloadType: e.payloadType }).toEqual(expected);
  expect(e.reason.length).toBeGreaterThan(0);
  return e;
}

/** The value side, failing the test with the error's message otherwise. */
export function expectOk<T>(result: Result<T, ParseError>): T {
  if (!result.ok) throw new Error(`expected a value, got ${result.error.message}`);
  return result.value;
}
