/**
 * NAT-keepalives follow the SA events (RFC 3948 2.3, RFC 7296 2.23): started with the first IKE SA
 * behind a NAT to a peer, kept across a rekey (the new SA is up before the old goes down), stopped
 * with the last one; nothing for SAs not behind a NAT; each event handled without reading other SAs.
 */
import { describe, expect, it } from 'vitest';
import { NatKeepaliveSync } from '../../src/daemon/nat-keepalive-sync.js';
import type { SaEvent } from '../../src/engine/engine-ports.js';
import type { Endpoint } from '../../src/ports.js';

const local = { address: '10.0.0.2', port: 4500 };
const peer = { address: '192.0.2.2', port: 4500 };
const other = { address: '192.0.2.3', port: 4500 };

function recorder() {
  const calls: string[] = [];
  const show = (e: Endpoint) => `${e.address}:${e.port}`;
  return { calls, control: { start: (remote: Endpoint, from: Endpoint) => calls.push(`start ${show(remote)} from ${show(from)}`), stop: (remote: Endpoint) => calls.push(`stop ${show(remote)}`) } };
}

const up = (id: string, remote?: Endpoint): SaEvent => ({
  kind: 'ike-sa-up',
  connection: 'lab',
  id,
  spiI: id,
  spiR: id,
  role: 'initiator',
  rekeyed: false,
  rekeyAtMs: 0,
  expireAtMs: 0,
  atMs: 0,
  ...(remote === undefined ? {} : { natKeepalive: { local, remote } }),
});
const down = (id: string): SaEvent => ({ kind: 'ike-sa-down', connection: 'lab', id, spiI: id, spiR: id, reason: 'closed', cause: 'local', atMs: 0 });

describe('NatKeepaliveSync', () => {
  it('starts with the first SA behind a NAT to a peer, keeps going across a rekey, stops with the last', () => {
    const { calls, control } = recorder();
    const sync = new NatKeepaliveSync(control);
    sync.onSaEvent(up('ike-1', peer));
    sync.onSaEvent(up('ike-2', peer));
    sync.onSaEvent(up('ike-3', other));
    expect(calls).toEqual(['start 192.0.2.2:4500 from 10.0.0.2:4500', 'start 192.0.2.3:4500 from 10.0.0.2:4500']);
    // A rekey of ike-1: its successor up first, then ike-1 down.
    sync.onSaEvent(up('ike-4', peer));
    sync.onSaEvent(down('ike-1'));
    sync.onSaEvent(down('ike-2'));
    expect(calls).toHaveLength(2);
    sync.onSaEvent(down('ike-4'));
    expect(calls.slice(2)).toEqual(['stop 192.0.2.2:4500']);
    sync.onSaEvent(down('ike-3'));
    expect(calls.slice(3)).toEqual(['stop 192.0.2.3:4500']);
    expect(sync.size).toBe(0);
  });

  it('ignores SAs not behind a NAT, a repeated up, and a down it never saw up', () => {
    const { calls, control } = recorder();
    const sync = new NatKeepaliveSync(control);
    sync.onSaEvent(up('plain'));
    sync.onSaEvent(down('plain'));
    sync.onSaEvent(up('ike-1', peer));
    sync.onSaEvent(up('ike-1', peer));
    sync.onSaEvent(down('never-up'));
    expect(calls).toEqual(['start 192.0.2.2:4500 from 10.0.0.2:4500']);
    sync.onSaEvent(down('ike-1'));
    expect(calls).toEqual(['start 192.0.2.2:4500 from 10.0.0.2:4500', 'stop 192.0.2.2:4500']);
  });
});
