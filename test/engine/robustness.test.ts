/**
 * An exception inside an IKE SA actor or one of its Child SA actors (a handler, an action, a port
 * an effect reached) no longer leaks anything: the SA is torn down, its Child SAs leave the
 * kernel, its supervisor entry and half-open slot are freed, the error is logged with the SA's
 * SPIs and connection, and the engine carries on. And `initiate` on a connection whose remote is
 * `%any` is refused at once instead of failing inside the actor.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { controlRequest } from '../../src/control/control-client.js';
import type { Datagram } from '../../src/ports.js';
import { DEFAULT_ENGINE_SETTINGS } from '../../src/config/model.js';
import { loadedConfig, testPorts } from '../daemon/support/lab-connections.js';
import { startDaemon } from '../daemon/support/daemon-pair.js';
import { connectionPair } from './fixtures.js';
import { Lab, type LogRecord } from './lab.js';
import { strangerInit } from './stranger-initiator.js';

const both = (lab: Lab) => () => lab.established(lab.a) && lab.established(lab.b);
const failureLog = (logs: readonly LogRecord[]) => logs.find((r) => r.level === 'error' && r.message.startsWith('IKE SA failed with an internal error'));

/** The network port throws (synchronously, inside the sending actor's step) for datagrams `when` picks. */
function throwOnSend(lab: Lab, when: (d: Datagram) => boolean): void {
  lab.network.filter = (d) => {
    if (when(d)) throw new Error('injected: the network port failed');
    return true;
  };
}

describe('an IKE SA actor that throws', () => {
  it("a half-open responder: its entry and half-open slot are freed, the error is logged with its SPIs, other SAs are unaffected", async () => {
    const lab = new Lab();
    const { b } = connectionPair();
    lab.b.engine.reload({ settings: DEFAULT_ENGINE_SETTINGS, connections: [{ ...b, remote: { ...b.remote, address: '%any' } }] });
    throwOnSend(lab, (d) => d.remote.address === '198.51.100.66');
    lab.b.engine.receive(strangerInit('198.51.100.66').datagram);
    await lab.run(100);
    expect(lab.b.engine.size()).toBe(0);
    expect(lab.b.engine.halfOpen()).toBe(0);
    expect(lab.b.engine.counters()).toMatchObject({ crashed: 1, created: 1, closed: 1 });
    const log = failureLog(lab.b.logs);
    expect(log?.fields.error).toBe('injected: the network port failed');
    expect(log?.bindings).toMatchObject({ connection: 'lab' });
    expect(log?.bindings.spiI).toMatch(/^[0-9a-f]{16}$/);
    expect(log?.bindings.spiR).toMatch(/^[0-9a-f]{16}$/);
    expect(lab.b.events.find((e) => e.kind === 'ike-sa-failed')).toMatchObject({ reason: expect.stringMatching(/^internal error: injected/) });
    // The engine carries on: A's tunnel comes up.
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab), 30_000)).toBe(true);
  });

  it('an established SA: its Child SAs leave the kernel, its SPIs and timers are released, the user hears it went down', async () => {
    const lab = new Lab();
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab), 30_000)).toBe(true);
    expect(lab.a.kernel.sas()).toHaveLength(2);
    const [sa] = lab.a.engine.status();
    throwOnSend(lab, (d) => d.local.address === lab.a.address);
    lab.a.engine.rekeyChildSa(sa!.id);
    await lab.run(1000);
    lab.network.filter = undefined;
    expect(lab.a.engine.size()).toBe(0);
    expect(lab.a.kernel.sas()).toHaveLength(0);
    expect(lab.a.kernel.policies()).toHaveLength(0);
    expect(lab.a.engine.childSpisInUse()).toBe(0);
    expect(lab.a.timers.pending()).toBe(0);
    expect(lab.a.events.find((e) => e.kind === 'ike-sa-down' && e.id === sa!.id)).toMatchObject({ reason: expect.stringMatching(/^internal error/) });
    expect(failureLog(lab.a.logs)?.bindings).toMatchObject({ connection: 'lab', spiI: sa!.spiI, spiR: sa!.spiR });
    // A new IKE SA works (INITIAL_CONTACT replaces the one B still has).
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(() => both(lab)() && lab.b.engine.size() === 1, 30_000)).toBe(true);
  });

  it('a Child SA actor that throws takes its IKE SA down with it, and nothing stays in the kernel', async () => {
    const lab = new Lab();
    // The log port throws for the Child SA's own record: inside the Child SA actor's action.
    const push = lab.a.logs.push.bind(lab.a.logs);
    lab.a.logs.push = (...records: LogRecord[]) => {
      if (records.some((r) => r.message === 'Child SA installed')) throw new Error('injected: the log port failed');
      return push(...records);
    };
    lab.a.engine.initiate('lab');
    await lab.run(5_000);
    expect(lab.a.engine.size()).toBe(0);
    expect(lab.a.kernel.sas()).toHaveLength(0);
    expect(lab.a.kernel.policies()).toHaveLength(0);
    expect(lab.a.engine.childSpisInUse()).toBe(0);
    expect(lab.a.engine.counters().crashed).toBe(1);
    expect(String(failureLog(lab.a.logs)?.fields.error)).toMatch(/^Child SA actor .* failed: injected: the log port failed/);
  });
});

describe('initiate on a connection whose remote is %any', () => {
  it('is refused at once with a clear error, leaving no entry behind', () => {
    const lab = new Lab();
    const { a } = connectionPair();
    lab.a.engine.reload({ settings: DEFAULT_ENGINE_SETTINGS, connections: [{ ...a, remote: { ...a.remote, address: '%any' } }] });
    expect(() => lab.a.engine.initiate('lab')).toThrow(/remote address is %any.*can only answer/);
    expect(lab.a.engine.size()).toBe(0);
    expect(lab.a.engine.counters().created).toBe(0);
  });

  it('ikekm up gets the error from the daemon at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ikekm-any-'));
    const ports = testPorts();
    const config = loadedConfig('a', ports, [{ start: 'listen' }]);
    const [conn] = config.engine.connections;
    const daemon = await startDaemon({ ...config, engine: { ...config.engine, connections: [{ ...conn!, remote: { ...conn!.remote, address: '%any' } }] } }, join(dir, 'ikekm.sock'));
    try {
      const started = Date.now();
      await expect(controlRequest(daemon.socket, { cmd: 'up', name: 'lab' }, 5_000)).rejects.toThrow(/remote address is %any.*can only answer/);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(daemon.daemon.status).toBeDefined();
      expect((await daemon.daemon.status()).ikeSas).toHaveLength(0);
    } finally {
      await daemon.daemon.stop({ graceMs: 0 });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
