/**
 * Reload by connection through the real YAML loader (reloadFromFile, as SIGHUP and `ikekm reload`
 * do): added connections start, removed ones are deleted at the peer, changed ones are torn down
 * and negotiated again with the new policy, unchanged ones keep their SAs; a broken file keeps
 * the running configuration and the log says why.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load-config.js';
import type { IkeSaStatusJson } from '../../src/control/daemon-status.js';
import { startDaemon, waitFor, type RunningDaemon } from './support/daemon-pair.js';
import { testPorts, type ConnectionOptions, type Side } from './support/lab-connections.js';
import { writeDaemonYaml } from './support/yaml-config.js';

const running: RunningDaemon[] = [];
let dir: string | undefined;
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.daemon.stop({ graceMs: 1000 })));
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

async function fromYaml(side: Side, ports: { ike: number; natt: number }, connections: readonly ConnectionOptions[]): Promise<{ daemon: RunningDaemon; file: string }> {
  dir ??= mkdtempSync(join(tmpdir(), 'ikekm-reload-'));
  const file = join(dir, `${side}.yaml`);
  const control = join(dir, side, 'ikekm.sock');
  writeDaemonYaml(file, side, { ports, control, connections });
  const loaded = await loadConfigFile(file);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.error));
  const daemon = await startDaemon(loaded.value, control);
  running.push(daemon);
  return { daemon, file };
}

const established = async (d: RunningDaemon, name: string): Promise<IkeSaStatusJson | undefined> =>
  (await d.daemon.status()).ikeSas.find((sa) => sa.connection === name && sa.state === 'ESTABLISHED' && sa.childSas.some((c) => c.state === 'INSTALLED'));

it('adds, removes, changes and keeps connections as the file says; a broken file keeps the running configuration', async () => {
  const ports = testPorts();
  const lab: ConnectionOptions = { name: 'lab', start: 'on-load' };
  const gone: ConnectionOptions = { name: 'gone', subnet: 5, start: 'on-load' };
  const changedBefore: ConnectionOptions = { name: 'changed', subnet: 7, start: 'on-load', esp: ['aes128gcm16'] };
  const changedAfter: ConnectionOptions = { ...changedBefore, esp: ['aes256gcm16'] };
  const added: ConnectionOptions = { name: 'added', subnet: 6, start: 'on-load' };
  const listen = (c: ConnectionOptions): ConnectionOptions => ({ ...c, start: 'listen' });

  const a = await fromYaml('a', ports, [listen(lab), listen(gone), { ...listen(changedBefore), esp: ['aes128gcm16', 'aes256gcm16'] }, listen(added)]);
  const b = await fromYaml('b', ports, [lab, gone, changedBefore]);
  for (const name of ['lab', 'gone', 'changed']) await waitFor(`${name} established on both`, async () => (await established(b.daemon, name)) && established(a.daemon, name));
  const labBefore = await established(b.daemon, 'lab');
  const changedSpi = (await established(b.daemon, 'changed'))?.spiI;
  expect((await established(b.daemon, 'changed'))?.childSas[0]?.algorithms.encryption).toBe('aes128gcm16');

  writeDaemonYaml(b.file, 'b', { ports, control: b.daemon.socket, connections: [lab, changedAfter, added] });
  const result = await b.daemon.daemon.reloadFromFile();
  expect(result.ok).toBe(true);
  if (result.ok) expect(result.value).toEqual({ added: ['added'], removed: ['gone'], changed: ['changed'], unchanged: ['lab'], settingsChanged: false });

  await waitFor('added up, changed renegotiated, gone deleted at the peer', async () => {
    const changed = await established(b.daemon, 'changed');
    return (
      (await established(b.daemon, 'added')) !== undefined &&
      (await established(a.daemon, 'added')) !== undefined &&
      changed !== undefined &&
      changed.spiI !== changedSpi &&
      (await b.daemon.daemon.status()).ikeSas.every((sa) => sa.connection !== 'gone') &&
      (await a.daemon.daemon.status()).ikeSas.every((sa) => sa.connection !== 'gone')
    );
  });
  expect((await established(b.daemon, 'changed'))?.childSas[0]?.algorithms.encryption).toBe('aes256gcm16');
  // Unchanged: the very same SAs.
  expect(await established(b.daemon, 'lab')).toMatchObject({ spiI: labBefore?.spiI, spiR: labBefore?.spiR, childSas: [{ spiIn: labBefore?.childSas[0]?.spiIn }] });
  expect(b.daemon.events.some((e) => e.kind === 'reloaded')).toBe(true);

  // A broken file: refused, the running configuration and its SAs stay, the log says why.
  const before = await b.daemon.daemon.status();
  writeFileSync(b.file, 'connections:\n  lab:\n    ikePolicy: nope\n', { mode: 0o600 });
  const refused = await b.daemon.daemon.reloadFromFile();
  expect(refused.ok).toBe(false);
  expect((await b.daemon.daemon.status()).ikeSas.map((sa) => sa.spiI)).toEqual(before.ikeSas.map((sa) => sa.spiI));
  const why = b.daemon.logs.lines().find((l) => l.msg === 'reload refused: the configuration file has errors; the running configuration stays');
  expect(why).toBeDefined();
  expect(JSON.stringify(why?.diagnostics)).toContain(`${b.file}:3:`);
  expect(JSON.stringify(why?.diagnostics)).toContain('nope');
  const failed = b.daemon.events.find((e) => e.kind === 'reload-failed');
  expect(failed).toMatchObject({ kind: 'reload-failed', file: b.file });
  // The running configuration still works: down and up again.
  await b.daemon.daemon.down('lab');
  await b.daemon.daemon.up('lab');
});
