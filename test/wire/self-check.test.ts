import { describe, expect, it } from 'vitest';
import { codecSelfChecks } from '../../src/wire/self-check.js';

describe('codec self-checks (the rows of `ikekm selfcheck`)', () => {
  for (const c of codecSelfChecks) {
    it(`${c.algorithm} — ${c.source}`, () => {
      expect(c.run()).toEqual({ ok: true });
    });
  }
});
