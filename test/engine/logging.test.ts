/**
 * The logs of a full negotiation, rekeys and a delete: every record of an SA carries the
 * connection and both SPIs as hex; no record carries the PSK or any key (IKE SA or ESP), in any
 * encoding a Buffer would print as; failures explain themselves (covered in failures.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { Lab, type LabSide } from './lab.js';

const PSK = 'correct horse battery staple';

describe('log hygiene', () => {
  it('no PSK or key in any record; connection and SPIs on every SA record', async () => {
    const lab = new Lab({ pair: { psk: PSK, esp: ['aes256-sha256-ecp256'] } });
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(() => lab.established(lab.a) && lab.established(lab.b))).toBe(true);
    const secrets: string[] = [];
    const collect = (side: LabSide) => {
      for (const sa of side.engine.status()) {
        const keys = side.engine.ikeSaContext(sa.id)?.security?.keys;
        // SK_pi and SK_pr are empty once the SA is established (securityInService); SK_a* with AEAD.
        if (keys !== undefined) for (const k of [keys.SK_d, keys.SK_ai, keys.SK_ar, keys.SK_ei, keys.SK_er, keys.SK_pi, keys.SK_pr]) if (k.length > 0) secrets.push(k.toString('hex'), k.toString('base64'));
      }
      for (const sa of side.kernel.sas()) {
        secrets.push(sa.encryption.key.toString('hex'), sa.encryption.key.toString('base64'));
        if (sa.integrity !== undefined) secrets.push(sa.integrity.key.toString('hex'), sa.integrity.key.toString('base64'));
      }
    };
    collect(lab.a);
    collect(lab.b);
    lab.a.engine.rekeyChildSa(lab.a.engine.status()[0]!.id);
    await lab.run(10_000);
    collect(lab.a);
    lab.b.engine.rekeyIkeSa(lab.b.engine.status()[0]!.id);
    await lab.run(10_000);
    collect(lab.a);
    lab.a.engine.terminate({ connection: 'lab' });
    await lab.run(90_000);
    expect(secrets.length).toBeGreaterThan(20);
    for (const side of [lab.a, lab.b]) {
      const lines = side.logs.map((r) => JSON.stringify({ ...r.bindings, ...r.fields, msg: r.message }));
      const all = lines.join('\n');
      expect(all).not.toContain(PSK);
      expect(all).not.toContain(Buffer.from(PSK).toString('hex'));
      for (const s of secrets) expect(all.includes(s)).toBe(false);
      for (const r of side.logs) {
        if (r.bindings.component === 'supervisor') continue;
        expect(r.bindings.connection).toBe('lab');
        expect(r.bindings.spiI).toMatch(/^[0-9a-f]{16}$/);
        expect(r.bindings.spiR).toMatch(/^[0-9a-f]{16}$/);
      }
    }
  });
});
