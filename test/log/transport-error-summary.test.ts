/**
 * The daemon's transport errors are summarised: a send error can come once per datagram we
 * answer, to any (spoofed) address, so 200 of them make three 'transport error' records and one
 * summary when the 10 s window ends (virtual time), not 200 warnings.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openRuntimePorts, type RuntimePorts } from '../../src/daemon/runtime-ports.js';
import { HeapVirtualScheduler } from '../../src/timers/heap-virtual-scheduler.js';
import { capturingLog, type LogRecord } from '../engine/lab.js';

let ports: RuntimePorts | undefined;
afterEach(async () => {
  await ports?.close();
  ports = undefined;
});

describe('transport errors in the daemon log', () => {
  it('200 failed sends: three records, then one summary with the count', async () => {
    const scheduler = new HeapVirtualScheduler();
    const records: LogRecord[] = [];
    ports = await openRuntimePorts({
      listen: ['127.0.0.1'],
      ikePort: 0,
      nattPort: 0,
      localAddresses: ['127.0.0.1'],
      kernel: 'memory',
      log: capturingLog(records),
      scheduler,
      onDatagram: () => {},
      deliverTimer: () => {},
    });
    const local = { address: '127.0.0.1', port: ports.transport.localPorts().ike };
    // Not an address: refused at once, as a send to a spoofed source can be.
    for (let i = 0; i < 200; i++) ports.transport.send({ local, remote: { address: 'not-an-address', port: 500 }, bytes: Buffer.alloc(28) });
    const errors = () => records.filter((r) => r.message === 'transport error');
    expect(errors()).toHaveLength(3);
    scheduler.advanceBy(10_000);
    const summary = records.find((r) => r.fields.summary !== undefined);
    expect(summary?.level).toBe('warn');
    expect(summary?.fields).toMatchObject({ summary: 'transport-invalid-address', events: 200, notLogged: 197 });
    expect(records).toHaveLength(4);
  });
});
