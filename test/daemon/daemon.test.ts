/**
 * Two daemons in one process on 127.0.0.1 / 127.0.0.2: up, status on both sides, down (the
 * Delete reaches the peer), Child SA and IKE SA rekeys, watch over the control socket, the
 * socket's mode.
 */
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { controlRequest, controlWatch, DaemonUnreachableError } from '../../src/control/control-client.js';
import type { DaemonStatus } from '../../src/control/daemon-status.js';
import { renderStatusTable } from '../../src/control/status-table.js';
import { assertNoSecrets } from '../support/log-capture.js';
import { PSK, startPair, waitFor, type Pair } from './support/daemon-pair.js';

let pair: Pair | undefined;
afterEach(async () => {
  await pair?.stop();
  pair = undefined;
});

describe('two daemons', () => {
  it('up establishes the IKE SA and the Child SA; status shows them on both sides with the right algorithms', async () => {
    pair = await startPair({ a: [{ start: 'listen' }], b: [{ start: 'listen' }] });
    const up = await pair.b.daemon.up('lab');
    expect(up).toMatchObject({ connection: 'lab', alreadyUp: false });

    const ours = await pair.b.daemon.status();
    const theirs = await waitFor('a to list the SA', async () => {
      const s = await pair?.a.daemon.status();
      return s?.ikeSas[0]?.childSas[0]?.state === 'INSTALLED' ? s : undefined;
    });
    expect(ours.ikeSas).toHaveLength(1);
    // What the control socket sends (writeStatus, in pieces) is status() as JSON, byte for byte.
    // Taken twice a few ms apart: retried should a second tick between them (the ages are seconds).
    for (const side of [pair.a, pair.b]) {
      const same = await waitFor('writeStatus to write what status() says', async () => {
        const pieces: string[] = [];
        await side.daemon.writeStatus((text) => pieces.push(text));
        return pieces.join('') === JSON.stringify(await side.daemon.status());
      });
      expect(same).toBe(true);
    }
    const [b] = ours.ikeSas;
    const [a] = theirs.ikeSas;
    expect(b).toMatchObject({
      connection: 'lab',
      peer: { address: '127.0.0.1', port: pair.ports.ike, id: '127.0.0.1' },
      state: 'ESTABLISHED',
      role: 'initiator',
      spiI: up.ikeSa.spiI,
      spiR: up.ikeSa.spiR,
      algorithms: { encryption: 'aes256gcm16', prf: 'prfsha384', dh: 'ecp384' },
      natDetected: false,
    });
    expect(b?.algorithms).not.toHaveProperty('integrity');
    expect(a).toMatchObject({ connection: 'lab', state: 'ESTABLISHED', role: 'responder', spiI: up.ikeSa.spiI, spiR: up.ikeSa.spiR, peer: { address: '127.0.0.2', id: '127.0.0.2' } });
    expect(a?.algorithms).toEqual(b?.algorithms);

    const child = b?.childSas[0];
    expect(child).toMatchObject({
      state: 'INSTALLED',
      mode: 'tunnel',
      spiIn: up.childSa?.spiIn,
      spiOut: up.childSa?.spiOut,
      algorithms: { encryption: 'aes128gcm16', esn: false },
      localTs: ['10.2.0.0/24'],
      remoteTs: ['10.1.0.0/24'],
      bytesIn: 0,
      bytesOut: 0,
      // The memory backend carries no traffic.
      lastInSeconds: null,
      lastOutSeconds: null,
    });
    expect(a?.childSas[0]).toMatchObject({ spiIn: up.childSa?.spiOut, spiOut: up.childSa?.spiIn, localTs: ['10.1.0.0/24'], remoteTs: ['10.2.0.0/24'] });
    for (const sa of [a, b]) {
      expect(sa?.establishedSeconds).toBeGreaterThanOrEqual(0);
      expect(sa?.rekeySeconds).toBeGreaterThan(20 * 3600);
      expect(sa?.expiresSeconds).toBeGreaterThan(sa?.rekeySeconds ?? 0);
      expect(sa?.childSas[0]?.establishedSeconds).toBeGreaterThanOrEqual(0);
      expect(sa?.childSas[0]?.rekeySeconds).toBeGreaterThan(50 * 60);
    }
    // The table shows every column the README lists for `ikekm status`.
    const table = renderStatusTable(ours);
    for (const text of ['connection', 'peer', 'state', 'SPIs', 'algorithms', 'established', 'rekey in', 'expires in', 'bytes in/out', 'last in/out', 'ESTABLISHED', 'aes256gcm16-prfsha384-ecp384', up.ikeSa.spiI]) {
      expect(table).toContain(text);
    }
    // up again: already up, nothing new.
    expect(await pair.b.daemon.up('lab')).toMatchObject({ alreadyUp: true, ikeSa: up.ikeSa });
  });

  it('up of an unknown connection names the defined ones; a failed negotiation says why', async () => {
    pair = await startPair({ a: [{ esp: ['aes256-sha256'] }], b: [{ esp: ['aes128gcm16'] }] });
    await expect(pair.b.daemon.up('nope')).rejects.toThrow("no connection named 'nope'; defined: lab");
    await expect(pair.b.daemon.up('lab')).rejects.toThrow(/lab: .*NO_PROPOSAL_CHOSEN/);
  });

  it('down deletes the SAs at the peer too', async () => {
    pair = await startPair();
    await pair.b.daemon.up('lab');
    await waitFor('a to have the SA', async () => (await pair?.a.daemon.status())?.ikeSas.length === 1);
    expect(await pair.b.daemon.down('lab')).toEqual({ connection: 'lab', deleted: 1 });
    expect((await pair.b.daemon.status()).ikeSas).toEqual([]);
    await waitFor('the Delete to reach a', async () => (await pair?.a.daemon.status())?.ikeSas.length === 0);
    // a lingers a while to answer a retransmitted Delete (not listed), so its Child SA's end is the event to see.
    expect(pair.a.events.some((e) => e.kind === 'child-sa-down')).toBe(true);
    expect(await pair.b.daemon.down('lab')).toEqual({ connection: 'lab', deleted: 0 });
  });

  it('rekey replaces the Child SA, rekey --ike the IKE SA, on both sides', async () => {
    pair = await startPair();
    const up = await pair.b.daemon.up('lab');
    const child = await pair.b.daemon.rekey('lab', { ike: false });
    expect(child.kind).toBe('child');
    expect(child.childSa?.spiIn).not.toBe(up.childSa?.spiIn);
    await waitFor('one Child SA left on a, the new one', async () => {
      const children = (await pair?.a.daemon.status())?.ikeSas[0]?.childSas ?? [];
      return children.length === 1 && children[0]?.spiOut === child.childSa?.spiIn;
    });

    const ike = await pair.b.daemon.rekey('lab', { ike: true });
    expect(ike.kind).toBe('ike');
    expect(ike.ikeSa.spiI).not.toBe(up.ikeSa.spiI);
    await waitFor('a to run on the new IKE SA only', async () => {
      const sas = (await pair?.a.daemon.status())?.ikeSas ?? [];
      return sas.length === 1 && sas[0]?.spiI === ike.ikeSa.spiI && sas[0]?.childSas.length === 1;
    });
    // b lists its old IKE SA as DELETING until a's answer to its Delete arrives, which may be just after a dropped it.
    await waitFor('b to run on the new IKE SA only', async () => {
      const spis = ((await pair?.b.daemon.status())?.ikeSas ?? []).map((s) => s.spiI);
      return spis.length === 1 && spis[0] === ike.ikeSa.spiI;
    });
  });

  it('the control socket is 0600 in a 0700 directory; a client gets status and a stream of events', async () => {
    pair = await startPair();
    expect(statSync(pair.b.socket).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(pair.b.socket)).mode & 0o777).toBe(0o700);

    const seen: { kind: string }[] = [];
    const watch = await controlWatch(pair.b.socket, (e) => seen.push(e as { kind: string }));
    const up = (await controlRequest(pair.b.socket, { cmd: 'up', name: 'lab' })) as { ikeSa: { spiI: string } };
    const status = (await controlRequest(pair.b.socket, { cmd: 'status' })) as DaemonStatus;
    expect(status.ikeSas[0]?.spiI).toBe(up.ikeSa.spiI);
    await waitFor('ike-sa-up and child-sa-up on the watch stream', () => seen.some((e) => e.kind === 'ike-sa-up') && seen.some((e) => e.kind === 'child-sa-up'));
    await controlRequest(pair.b.socket, { cmd: 'down', name: 'lab' });
    await waitFor('ike-sa-down on the watch stream', () => seen.some((e) => e.kind === 'ike-sa-down'));
    watch.close();
    await watch.ended;

    await expect(controlRequest(pair.b.socket, { cmd: 'up', name: 'nope' })).rejects.toThrow("no connection named 'nope'");
    await expect(controlRequest(`${pair.dir}/nobody.sock`, { cmd: 'status' })).rejects.toBeInstanceOf(DaemonUnreachableError);
  });

  it('stop deletes every SA at the peer and ends watch streams', async () => {
    pair = await startPair();
    await pair.b.daemon.up('lab');
    let ended = false;
    const watch = await controlWatch(pair.b.socket, () => undefined);
    void watch.ended.then(() => (ended = true));
    await pair.b.daemon.stop();
    await waitFor('a to see the Delete', async () => (await pair?.a.daemon.status())?.ikeSas.length === 0);
    await waitFor('the watch stream to end', () => ended);
  });

  it('stop with a Delete not answered in time: the SA is not closed one by one, its kernel state goes in the sweep at close', async () => {
    pair = await startPair();
    await pair.b.daemon.up('lab');
    const kernel = pair.b.daemon.memoryKernel!;
    expect(kernel.sas()).toHaveLength(2);
    const policies = kernel.policies().length;
    // No grace: the Delete is sent, its answer not waited for.
    await pair.b.daemon.stop({ graceMs: 0 });
    expect(kernel.sas()).toEqual([]);
    expect(kernel.policies()).toEqual([]);
    expect(pair.b.logs.lines().find((l) => l.msg === 'memory kernel closed; the SAs and policies still in it removed')).toMatchObject({ removedSas: 2, removedPolicies: policies });
  });
});

describe('failures explain themselves', () => {
  const warnings = (p: Pair, side: 'a' | 'b') => p[side].logs.lines().filter((l) => (l.level as number) >= 40);

  it('a proposal mismatch: the initiator logs what it offered, the responder what it received and has', async () => {
    pair = await startPair({ a: [{ ike: ['aes128-sha256-modp2048'] }], b: [{}] });
    await expect(pair.b.daemon.up('lab')).rejects.toThrow(/NO_PROPOSAL_CHOSEN/);
    expect(warnings(pair, 'b').find((l) => l.msg === 'the peer accepted none of our IKE proposals (its log lists its own)')).toMatchObject({ connection: 'lab', offered: ['aes256gcm16-prfsha384-ecp384'] });
    await waitFor('a to log both sides', () => warnings(pair!, 'a').some((l) => String(l.reason).includes('received #1 aes256gcm16-prfsha384-ecp384') && String(l.reason).includes('configured aes128-sha256')));
  });

  it('a traffic selector mismatch: both sides name the selectors', async () => {
    pair = await startPair({ a: [{ subnet: 3 }], b: [{}] });
    await expect(pair.b.daemon.up('lab')).rejects.toThrow(/TS_UNACCEPTABLE/);
    expect(warnings(pair, 'b').find((l) => l.msg === 'the peer refused our traffic selectors (its log lists its own)')).toMatchObject({ offeredLocal: ['10.2.0.0/24'], offeredRemote: ['10.1.0.0/24'] });
    await waitFor('a to log both sides', () => warnings(pair!, 'a').some((l) => String(l.reason).includes('received TSi 10.2.0.0/24') && String(l.reason).includes('configured remote 10.2.3.0/24')));
  });

  it('an authentication failure: the initiator names the method and the IDs, never the key', async () => {
    pair = await startPair({ a: [{ psk: 'another shared secret' }], b: [{}] });
    await expect(pair.b.daemon.up('lab')).rejects.toThrow(/AUTHENTICATION_FAILED/);
    const warning = [...warnings(pair, 'b'), ...warnings(pair, 'a')].find((l) => l.msg === 'authentication failed: check that both sides use the same PSK and these IDs');
    expect(warning).toMatchObject({ method: 'PSK', localId: '127.0.0.2', expectedRemoteId: '127.0.0.1' });
    // The responder's engine names the initiator's ID and the method itself.
    await waitFor('a to say which ID and method', () => warnings(pair!, 'a').some((l) => String(l.reason).includes('initiator 127.0.0.2 (method PSK')));
    assertNoSecrets([...pair.a.logs.text(), ...pair.b.logs.text()], [PSK, 'another shared secret']);
  });
});
