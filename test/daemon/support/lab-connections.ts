/**
 * The two test daemons' addressing and connections: a on 127.0.0.1, b on 127.0.0.2, the same
 * unprivileged ports on both (different addresses, so no clash and no NAT detected), inner
 * subnets 10.1.0.0/24 and 10.2.0.0/24, PSK "correct horse battery staple".
 */
import type { LoadedConfig } from '../../../src/config/load-config.js';
import { DEFAULT_DAEMON_SETTINGS } from '../../../src/config/daemon-settings.js';
import { DEFAULT_ENGINE_SETTINGS } from '../../../src/config/model.js';
import { toConnectionConfig, type PeerConnectionJson } from '../../interop/support/ikekm-peer-config.js';

export const PSK = 'correct horse battery staple';
export const SIDES = {
  a: { address: '127.0.0.1', inner: '10.1.0.0/24' },
  b: { address: '127.0.0.2', inner: '10.2.0.0/24' },
} as const;
export type Side = keyof typeof SIDES;
const other = (side: Side): Side => (side === 'a' ? 'b' : 'a');

/** A port pair nobody else in this test run is likely to use (IKE = p, NAT-T = p + 1). */
export function testPorts(): { ike: number; natt: number } {
  const ike = 20_000 + 2 * Math.floor(Math.random() * 10_000);
  return { ike, natt: ike + 1 };
}

export interface ConnectionOptions {
  readonly name?: string;
  readonly ike?: readonly string[];
  readonly esp?: readonly string[];
  readonly start?: 'on-load' | 'on-demand' | 'listen';
  /** Extra inner prefix, so several connections between the same peers differ in selectors. */
  readonly subnet?: number;
  /** Default PSK ("correct horse battery staple"). */
  readonly psk?: string;
}

/** `lab` uses the addresses as IDs; other connections `NAME.SIDE.test`. */
const idOf = (side: Side, name = 'lab'): string => (name === 'lab' ? SIDES[side].address : `${name}.${side}.test`);

export function connectionJson(side: Side, ports: { ike: number }, options: ConnectionOptions = {}): PeerConnectionJson {
  const self = SIDES[side];
  const peer = SIDES[other(side)];
  const shift = (cidr: string): string => (options.subnet === undefined ? cidr : cidr.replace(/\.0\.0\/24$/, `.${options.subnet}.0/24`));
  return {
    name: options.name ?? 'lab',
    ike: options.ike ?? ['aes256gcm16-prfsha384-ecp384'],
    esp: options.esp ?? ['aes128gcm16'],
    // The responder picks a connection by the IDs (RFC 7296 2.15 AUTH comes with them): several
    // connections between the same two daemons need IDs of their own.
    local: { address: self.address, port: ports.ike, id: idOf(side, options.name), psk: options.psk ?? PSK },
    remote: { address: peer.address, port: ports.ike, id: idOf(other(side), options.name) },
    traffic: { local: [shift(self.inner)], remote: [shift(peer.inner)] },
    start: options.start ?? 'listen',
  };
}

/** The loader's result, built in code (the stand-in for YAML in the in-process tests). */
export function loadedConfig(side: Side, ports: { ike: number; natt: number }, connections: readonly ConnectionOptions[], file = '/nonexistent/ikekm.yaml'): LoadedConfig {
  return {
    file,
    daemon: { ...DEFAULT_DAEMON_SETTINGS, listen: [SIDES[side].address], ports, kernel: 'memory', allowShortLifetimes: true },
    engine: {
      settings: { ...DEFAULT_ENGINE_SETTINGS, nattPort: ports.natt },
      connections: connections.map((c) => toConnectionConfig(connectionJson(side, ports, c))),
    },
    warnings: [],
  };
}
