/** Reload decisions: which connections a new configuration adds, removes, changes or leaves alone. */
import { describe, expect, it } from 'vitest';
import { diffConfigs } from '../../src/config/config-diff.js';
import type { EngineConfig } from '../../src/config/model.js';
import { testCa, testCertificate, testCrl, type TestCertificate } from '../support/test-pki.js';
import { fakeFiles, loaded, TEST_PSK } from './support.js';

/** Two connections sharing the IKE policy, each with its own data policy. */
function config(overrides: { psk?: string; aData?: string; bData?: string; ike?: string; extra?: string; withoutB?: boolean; traffic?: string; aIkeName?: string } = {}): EngineConfig {
  const ikeName = overrides.aIkeName ?? 'ike';
  const lines = [
    'ikePolicies:',
    `  ${ikeName}: { proposals: [${overrides.ike ?? 'aes256gcm16-prfsha384-ecp384'}], lifetime: 24h }`,
    'dataPolicies:',
    `  a-data: { proposals: [${overrides.aData ?? 'aes128gcm16-ecp256'}], lifetime: 60m }`,
    `  b-data: { proposals: [${overrides.bData ?? 'aes128gcm16'}], lifetime: 60m }`,
    'connections:',
    '  a:',
    `    ikePolicy: ${ikeName}`,
    '    dataPolicy: a-data',
    `    local: { address: 192.0.2.1, psk: "${overrides.psk ?? TEST_PSK}" }`,
    '    remote: { address: 192.0.2.2 }',
    `    traffic: { local: [${overrides.traffic ?? '10.1.0.0/16'}], remote: [10.2.0.0/16] }`,
    ...(overrides.withoutB === true
      ? []
      : [
          '  b:',
          `    ikePolicy: ${ikeName}`,
          '    dataPolicy: b-data',
          '    local: { address: 192.0.2.1, psk: { file: /k } }',
          '    remote: { address: 192.0.2.3 }',
          '    traffic: { local: [10.1.0.0/16], remote: [10.3.0.0/16] }',
        ]),
    ...(overrides.extra === undefined ? [] : [overrides.extra]),
  ];
  return loaded(`${lines.join('\n')}\n`, { readFile: fakeFiles({ '/k': 'another good key' }) }).engine;
}

describe('diffConfigs', () => {
  it('the same file read twice: everything unchanged (fresh objects, equal content)', () => {
    expect(diffConfigs(config(), config())).toEqual({ added: [], removed: [], changed: [], unchanged: ['a', 'b'], settingsChanged: false });
  });

  it('a connection added and one removed', () => {
    const extra = ['  c:', '    ikePolicy: ike', '    dataPolicy: b-data', `    local: { address: 192.0.2.1, psk: "${TEST_PSK}" }`, '    remote: { address: 192.0.2.4 }', '    traffic: { local: [10.1.0.0/16], remote: [10.4.0.0/16] }'].join('\n');
    expect(diffConfigs(config(), config({ withoutB: true, extra }))).toEqual({ added: ['c'], removed: ['b'], changed: [], unchanged: ['a'], settingsChanged: false });
  });

  it('a change in a policy used by one connection changes only that connection', () => {
    expect(diffConfigs(config(), config({ aData: 'aes256gcm16-ecp384' }))).toEqual({ added: [], removed: [], changed: ['a'], unchanged: ['b'], settingsChanged: false });
  });

  it('a change in the shared IKE policy changes both', () => {
    expect(diffConfigs(config(), config({ ike: 'aes128-sha256-modp2048' })).changed).toEqual(['a', 'b']);
  });

  it('a PSK change is a change (compared by bytes)', () => {
    expect(diffConfigs(config(), config({ psk: 'a different secret' })).changed).toEqual(['a']);
  });

  it('traffic changes count; spellings of the same thing do not', () => {
    expect(diffConfigs(config(), config({ traffic: '10.9.0.0/16' })).changed).toEqual(['a']);
    expect(diffConfigs(config(), config({ traffic: '10.1.2.3/16' })).changed).toEqual([]);
    expect(diffConfigs(config(), config({ ike: 'aes256gcm16-prfsha384-ecp384-ECP384' })).changed).toEqual([]);
  });

  it('renaming a policy without changing it disturbs nothing', () => {
    expect(diffConfigs(config(), config({ aIkeName: 'renamed-ike' })).unchanged).toEqual(['a', 'b']);
  });

  it('engine settings changes are flagged', () => {
    const next: EngineConfig = { ...config(), settings: { ...config().settings, nattPort: 4501 } };
    expect(diffConfigs(config(), next).settingsChanged).toBe(true);
  });

  it('certificates: a new certificate or CA is a change; a new CRL is not (it applies to the next negotiation)', () => {
    const ca = testCa('CN=Diff CA');
    const gw = testCertificate(ca, 'CN=gw', { san: ['192.0.2.1'] });
    const renewed = testCertificate(ca, 'CN=gw', { san: ['192.0.2.1'] });
    const files = (cert: TestCertificate, crl: Buffer) => fakeFiles({ '/gw.pem': cert.pem, '/gw.key': cert.keyPem, '/ca.pem': ca.pem, '/ca.crl': crl });
    const text = [
      'ikePolicies:',
      '  ike: { auth: pubkey, proposals: [aes256gcm16-prfsha384-ecp384] }',
      'dataPolicies:',
      '  data: { proposals: [aes128gcm16] }',
      'connections:',
      '  a:',
      '    ikePolicy: ike',
      '    dataPolicy: data',
      '    local: { address: 192.0.2.1, id: 192.0.2.1, cert: /gw.pem, key: /gw.key }',
      '    remote: { address: 192.0.2.2, ca: /ca.pem }',
      '    traffic: { local: [10.1.0.0/16], remote: [10.2.0.0/16] }',
      '    crl: /ca.crl',
      '',
    ].join('\n');
    const before = loaded(text, { readFile: files(gw, testCrl(ca, []).der) }).engine;
    const newCrl = loaded(text, { readFile: files(gw, testCrl(ca, [{ certificate: renewed }]).der) }).engine;
    const newCert = loaded(text, { readFile: files(renewed, testCrl(ca, []).der) }).engine;
    expect(diffConfigs(before, newCrl)).toMatchObject({ changed: [], unchanged: ['a'] });
    expect(diffConfigs(before, newCert)).toMatchObject({ changed: ['a'], unchanged: [] });
  });
});
