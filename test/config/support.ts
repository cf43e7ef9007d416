/** Shared fixtures for the configuration tests: a full example, fake secret files, formatted output. */
import { formatDiagnostic } from '../../src/config/config-diagnostic.js';
import { parseConfig, type ConfigSourceOptions, type LoadedConfig, type SecretFile } from '../../src/config/load-config.js';

/** A configuration that uses every section and most options. */
export const FULL_EXAMPLE = `daemon:   { listen: [0.0.0.0, "::"], ports: { ike: 500, natt: 4500 }, control: /run/ikekm/ikekm.sock, kernel: memory }
ikePolicies:            # phase 1
  hq-ike: { version: 2, auth: psk, proposals: [aes256gcm16-prfsha384-ecp384, aes128-sha256-modp2048], lifetime: 24h, dpd: { interval: 30s, timeout: 150s } }
dataPolicies:           # phase 2
  hq-data: { protocol: esp, mode: tunnel, proposals: [aes128gcm16-ecp256], lifetime: { time: 60m, kilobytes: 1000000 } }
connections:
  to-hq:
    ikePolicy: hq-ike
    dataPolicy: hq-data
    local:  { address: 192.0.2.1, id: 192.0.2.1, psk: { file: /etc/ikekm/secrets/to-hq.psk } }
    remote: { address: 192.0.2.2, id: hq.example.net }
    traffic: { local: [198.51.100.0/24], remote: [203.0.113.0/24] }
    start: on-load        # on-load | on-demand | listen
`;

export const TEST_PSK = 'correct horse battery staple';

/** A readFile over a fixed set of files (mode 0600); others fail as fs does (ENOENT with its message). */
export function fakeFiles(files: Readonly<Record<string, string | Buffer>>): (path: string) => SecretFile {
  return (path) => {
    const content = files[path];
    if (content !== undefined) return { bytes: Buffer.from(content), mode: 0o100600 };
    const e = new Error(`ENOENT: no such file or directory, open '${path}'`) as NodeJS.ErrnoException;
    e.code = 'ENOENT';
    throw e;
  };
}

export const EXAMPLE_FILES = fakeFiles({ '/etc/ikekm/secrets/to-hq.psk': `${TEST_PSK}\n` });

/** A minimal valid configuration in block style, one setting per line, for the rule tests. */
export const BASE = `ikePolicies:
  hq-ike:
    proposals: [aes256gcm16-prfsha384-ecp384]
    lifetime: 24h
dataPolicies:
  hq-data:
    proposals: [aes128gcm16-ecp256]
    lifetime: 60m
connections:
  to-hq:
    ikePolicy: hq-ike
    dataPolicy: hq-data
    local: { address: 192.0.2.1, psk: { file: /etc/ikekm/secrets/to-hq.psk } }
    remote: { address: 192.0.2.2, id: hq.example.net }
    traffic: { local: [198.51.100.0/24], remote: [203.0.113.0/24] }
    start: on-load
`;

/** BASE with one line replaced (1-based), or with lines inserted after it when `insert` is set. */
export function edit(text: string, line: number, replacement: string, insert = false): string {
  const lines = text.split('\n');
  lines.splice(insert ? line : line - 1, insert ? 0 : 1, ...replacement.split('\n'));
  return lines.join('\n');
}

export function load(text: string, options: ConfigSourceOptions = {}): ReturnType<typeof parseConfig> {
  return parseConfig(text, 'ikekm.yaml', { readFile: EXAMPLE_FILES, ...options });
}

/** Every diagnostic (errors and warnings) as check-config prints it. */
export function report(text: string, options: ConfigSourceOptions = {}): string[] {
  const r = load(text, options);
  return (r.ok ? r.value.warnings : r.error).map(formatDiagnostic);
}

export function loaded(text: string, options: ConfigSourceOptions = {}): LoadedConfig {
  const r = load(text, options);
  if (!r.ok) throw new Error(`expected a valid configuration:\n${r.error.map(formatDiagnostic).join('\n')}`);
  return r.value;
}
