import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runSelfCheck } from '../../src/cli/selfcheck.js';
import { allKnownAnswers } from '../../src/crypto/known-answers/index.js';
import { codecSelfChecks } from '../../src/wire/self-check.js';

describe('ikekm selfcheck', () => {
  it('runs every known-answer and codec case and reports each as a row', () => {
    const report = runSelfCheck();
    const total = allKnownAnswers.length + codecSelfChecks.length;
    expect(report.failed).toBe(0);
    expect(report.passed).toBe(total);
    for (const c of [...allKnownAnswers, ...codecSelfChecks]) expect(report.text).toContain(c.algorithm);
    expect(report.text).toMatch(new RegExp(`^${total} passed, 0 failed$`, 'm'));
  });

  it('lists the registry transforms by IANA name', () => {
    const { text } = runSelfCheck();
    for (const name of ['ENCR_AES_GCM_16_256', 'ENCR_CHACHA20_POLY1305', 'AUTH_HMAC_SHA2_256_128', 'PRF_AES128_XCBC', 'CURVE25519 (31)']) {
      expect(text).toContain(name);
    }
    // Legacy groups stay out unless asked for (groups 2 and 5 only with allowLegacyGroups, RFC 8247 2.4).
    expect(text).not.toMatch(/MODP_1024 \(2\)/);
  });

  it('is what `ikekm selfcheck` (npm start) prints, with exit status 0', () => {
    const r = spawnSync(process.execPath, ['bin/ikekm.js', 'selfcheck'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\d+ passed, 0 failed$/m);
  });

  it('rejects an unknown command with status 2', () => {
    const r = spawnSync(process.execPath, ['bin/ikekm.js', 'no-such-command'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown command 'no-such-command'");
  });
});
