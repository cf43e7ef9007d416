/**
 * `ikekm daemon --inspect URL [--inspect-connection NAME]`: the machines' inspection events go to
 * a WebSocket (here a server of this test, standing in for the Stately inspector's receiver):
 * the IKE SA and Child SA actors' registrations and snapshots arrive, in order, and no secret
 * does — none of the IKE SA's derived keys (from the key log), its DH private values (from the
 * record) or the PSK. With a connection named, the actors of another connection do not arrive.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordEntry } from '../../src/replay/record-entry.js';
import { readRecordFile } from '../../src/replay/record-file.js';
import { SECRET_MIN_OCTETS } from '../../src/replay/redact-record.js';
import { PSK, startDaemon, waitFor, type RunningDaemon } from './support/daemon-pair.js';
import { loadedConfig, testPorts } from './support/lab-connections.js';
import { receiver } from '../support/ws-receiver.js';

describe('ikekm daemon --inspect', () => {
  let dir: string;
  let all: Awaited<ReturnType<typeof receiver>>;
  let onlyOther: Awaited<ReturnType<typeof receiver>>;
  const daemons: RunningDaemon[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ikekm-inspect-'));
    all = await receiver();
    onlyOther = await receiver();
    const ports = testPorts();
    const connections = [{ start: 'listen' as const }, { name: 'other', start: 'listen' as const, subnet: 7 }];
    const a = await startDaemon(loadedConfig('a', ports, connections), join(dir, 'a.sock'), { inspect: { url: onlyOther.url, connection: 'other' } });
    daemons.push(a);
    const b = await startDaemon(loadedConfig('b', ports, connections), join(dir, 'b.sock'), { inspect: { url: all.url }, keylogDir: join(dir, 'keylog'), recordFile: join(dir, 'b.jsonl') });
    daemons.push(b);
    await b.daemon.up('lab');
    await b.daemon.up('other');
    await waitFor('the inspection events', () => all.messages.some((m) => m.includes('"@xstate.snapshot"') && m.includes('established')) || undefined);
    await waitFor("a's inspection events of other", () => onlyOther.messages.some((m) => m.includes('"connection":"other"')) || undefined);
    await new Promise((r) => setTimeout(r, 300));
    for (const d of daemons.splice(0)) await d.daemon.stop({ graceMs: 1000 });
  }, 60_000);

  afterAll(() => {
    for (const d of daemons) void d.daemon.stop({ graceMs: 0 });
    all?.close();
    onlyOther?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('carries the IKE SA and Child SA actors and their snapshots, in order', () => {
    const events = all.messages.map((m) => JSON.parse(m) as { type: string; name?: string; sessionId: string; snapshot?: { value?: unknown } });
    const actors = events.filter((e) => e.type === '@xstate.actor').map((e) => e.name ?? '');
    expect(actors.some((n) => /^ike-[0-9a-f]{16}$/.test(n))).toBe(true);
    expect(actors.some((n) => /^ike-[0-9a-f]{16}\/child-/.test(n))).toBe(true);
    const ikeSession = events.find((e) => e.type === '@xstate.actor' && /^ike-[0-9a-f]{16}$/.test(e.name ?? ''))!.sessionId;
    const values = events.filter((e) => e.type === '@xstate.snapshot' && e.sessionId === ikeSession).map((e) => JSON.stringify(e.snapshot?.value));
    const firstAuth = values.findIndex((v) => v.includes('ikeAuth'));
    const firstEstablished = values.findIndex((v) => v.includes('established'));
    expect(firstAuth).toBeGreaterThanOrEqual(0);
    expect(firstEstablished).toBeGreaterThan(firstAuth);
  });

  it('carries no secret: derived keys, DH private values, the PSK', async () => {
    const text = all.messages.join('\n');
    expect(text.length).toBeGreaterThan(10_000);
    const table = readFileSync(join(dir, 'keylog', 'ikev2_decryption_table'), 'utf8');
    const keys = [...table.matchAll(/[0-9a-f]{32,}/g)].map((m) => m[0]).filter((hex) => !/^0+$/.test(hex));
    expect(keys.length).toBeGreaterThanOrEqual(2);
    for (const key of keys) expect(text).not.toContain(key);
    const record = await readRecordFile(join(dir, 'b.jsonl'));
    const sent = record.filter((e): e is Extract<RecordEntry, { t: 'out' }> => e.t === 'out').map((e) => Buffer.from(e.datagram.bytes));
    const privates = record.filter((e): e is Extract<RecordEntry, { t: 'draw' }> => e.t === 'draw' && e.bytes.length >= SECRET_MIN_OCTETS && !sent.some((d) => d.includes(e.bytes)));
    expect(privates.length).toBeGreaterThanOrEqual(1);
    for (const p of privates) expect(text).not.toContain(p.bytes.toString('hex'));
    expect(text).not.toContain(PSK);
    expect(text).not.toContain(Buffer.from(PSK).toString('hex'));
    // The IKE SAs' contexts are there, their key sets among them, as "[redacted]" (toJSON).
    expect(text).toMatch(/"keys":"\[redacted\]"/);
  });

  it("with --inspect-connection, only that connection's SAs", () => {
    // a answered both IKE SAs; its receiver gets `other`'s and nothing of `lab`'s.
    expect(onlyOther.messages.some((m) => m.includes('"connection":"other"'))).toBe(true);
    expect(onlyOther.messages.some((m) => m.includes('"connection":"lab"'))).toBe(false);
    expect(all.messages.some((m) => m.includes('"connection":"lab"'))).toBe(true);
  });
});
