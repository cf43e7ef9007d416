import { describe, expect, it } from 'vitest';
import { writeRecord } from '../../src/log/record-writer.js';
import type { LogPort } from '../../src/ports.js';
import { createLogger } from '../../src/log/logger.js';

/** A port that counts the children made and the records written. */
function countingPort(enabled: ReadonlySet<string> | undefined): LogPort & { children: number; written: string[] } {
  const port = {
    children: 0,
    written: [] as string[],
    debug: (_: object, m: string) => void port.written.push(`debug ${m}`),
    info: (_: object, m: string) => void port.written.push(`info ${m}`),
    warn: (_: object, m: string) => void port.written.push(`warn ${m}`),
    error: (_: object, m: string) => void port.written.push(`error ${m}`),
    child: (): LogPort => (port.children++, port),
    ...(enabled === undefined ? {} : { isLevelEnabled: (level: string) => enabled.has(level) }),
  };
  return port;
}

describe('writeRecord', () => {
  it('makes no child logger for a record below the level', () => {
    const port = countingPort(new Set(['warn', 'error']));
    writeRecord(port, { level: 'debug', bindings: { connection: 'lab' }, fields: { x: 1 }, message: 'below' });
    writeRecord(port, { level: 'warn', bindings: { connection: 'lab' }, fields: { x: 1 }, message: 'above' });
    expect(port.children).toBe(1);
    expect(port.written).toEqual(['warn above']);
  });

  it('writes every record through a port that cannot tell its level', () => {
    const port = countingPort(undefined);
    writeRecord(port, { level: 'debug', bindings: { connection: 'lab' }, fields: {}, message: 'kept' });
    expect(port.written).toEqual(['debug kept']);
  });

  it("asks pino's own level: a debug record at level warn leaves no line", () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', destination: { write: (l: string) => void lines.push(l) } });
    writeRecord(logger, { level: 'debug', bindings: { connection: 'lab' }, fields: {}, message: 'hidden' });
    writeRecord(logger, { level: 'error', bindings: { connection: 'lab' }, fields: {}, message: 'shown' });
    expect(lines.map((l) => (JSON.parse(l) as { msg: string; connection: string })).map((r) => [r.msg, r.connection])).toEqual([['shown', 'lab']]);
  });
});
