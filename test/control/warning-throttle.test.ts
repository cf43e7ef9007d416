/** One warning per kind and interval; the next line says how many were left out. */
import { expect, it } from 'vitest';
import { WarningThrottle } from '../../src/control/warning-throttle.js';

it('logs the first of a kind, counts the rest of the interval, and reports the count with the next', () => {
  const lines: { fields: object; message: string }[] = [];
  let now = 1_000;
  const throttle = new WarningThrottle({ warn: (fields, message) => void lines.push({ fields, message }) }, 10_000, () => now);
  throttle.warn('a', { n: 1 }, 'A');
  throttle.warn('a', { n: 2 }, 'A');
  throttle.warn('b', { n: 1 }, 'B'); // another kind has its own interval
  now += 9_999;
  throttle.warn('a', { n: 3 }, 'A');
  now += 1;
  throttle.warn('a', { n: 4 }, 'A');
  now += 10_000;
  throttle.warn('a', { n: 5 }, 'A');
  expect(lines).toEqual([
    { fields: { n: 1 }, message: 'A' },
    { fields: { n: 1 }, message: 'B' },
    { fields: { n: 4, suppressed: 2 }, message: 'A' },
    { fields: { n: 5 }, message: 'A' },
  ]);
});
