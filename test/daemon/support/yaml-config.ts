/**
 * Configuration files in the real YAML format for the daemon tests that go through the loader
 * (reload, `ikekm daemon --config`), written 0600 (they hold the PSK inline).
 */
import { writeFileSync } from 'node:fs';
import { connectionJson, SIDES, type ConnectionOptions, type Side } from './lab-connections.js';

export interface YamlOptions {
  readonly ports: { ike: number; natt: number };
  readonly control: string;
  readonly connections: readonly ConnectionOptions[];
}

const list = (items: readonly string[]): string => `[${items.map((i) => JSON.stringify(i)).join(', ')}]`;

export function daemonYaml(side: Side, options: YamlOptions): string {
  const lines = [
    'daemon:',
    `  listen: [${SIDES[side].address}]`,
    `  ports: { ike: ${options.ports.ike}, natt: ${options.ports.natt} }`,
    `  control: ${JSON.stringify(options.control)}`,
    '  kernel: memory',
    '  allowShortLifetimes: true',
    'ikePolicies:',
    'dataPolicies:',
    'connections:',
  ];
  const ike: string[] = [];
  const data: string[] = [];
  const connections: string[] = [];
  for (const options_ of options.connections) {
    const c = connectionJson(side, options.ports, options_);
    ike.push(`  ${c.name}-ike: { version: 2, auth: psk, proposals: ${list(c.ike)}, lifetime: 24h }`);
    data.push(`  ${c.name}-data: { protocol: esp, mode: tunnel, proposals: ${list(c.esp)}, lifetime: 60m }`);
    connections.push(
      `  ${c.name}:`,
      `    ikePolicy: ${c.name}-ike`,
      `    dataPolicy: ${c.name}-data`,
      `    local: { address: ${c.local.address}, id: ${JSON.stringify(c.local.id)}, psk: ${JSON.stringify(c.local.psk)} }`,
      `    remote: { address: ${c.remote.address}, port: ${c.remote.port ?? 500}, id: ${JSON.stringify(c.remote.id)} }`,
      `    traffic: { local: ${list(c.traffic.local)}, remote: ${list(c.traffic.remote)} }`,
      `    start: ${c.start ?? 'listen'}`,
    );
  }
  const at = (header: string): number => lines.indexOf(header);
  lines.splice(at('ikePolicies:') + 1, 0, ...ike);
  lines.splice(at('dataPolicies:') + 1, 0, ...data);
  lines.push(...connections);
  return `${lines.join('\n')}\n`;
}

export function writeDaemonYaml(path: string, side: Side, options: YamlOptions): void {
  writeFileSync(path, daemonYaml(side, options), { mode: 0o600 });
}
