/** Exhaustiveness check for `switch` over a protocol union: compiling proves it unreachable. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${String(value)}`);
}
