/**
 * `ikekm inspect`: usage errors exit 2; a record that is not one, or a daemon that is not there,
 * exit 1 with the reason; with a record it prints the page's address, serves the page and the
 * record's steps there, and stops when told.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inspectCommand } from '../../src/cli/inspect-command.js';
import { commandOutput } from '../support/command-output.js';

const RECORD = 'test/replay/records/wrong-psk.jsonl';
const dir = mkdtempSync(join(tmpdir(), 'ikekm-inspect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const now = Promise.resolve();

describe('ikekm inspect', () => {
  it.each([
    [['--record', RECORD, '--socket', '/tmp/x.sock'], 'a record or a daemon, not both'],
    [['--listen', 'nowhere'], '--listen nowhere: expected HOST:PORT'],
    [['--listen', '127.0.0.1:70000'], 'expected HOST:PORT'],
    [['--bogus'], "Unknown option '--bogus'"],
  ])('%j is a usage error', async (args, message) => {
    const { code, out } = await commandOutput(() => inspectCommand(args, now));
    expect(code).toBe(2);
    expect(out).toContain(message);
    expect(out).toContain('usage: ikekm inspect');
  });

  it('a file that is not a record, or no daemon at the socket: exit 1, saying why', async () => {
    const notRecord = join(dir, 'not-a-record.jsonl');
    writeFileSync(notRecord, '{"t":"in","at":1,"input":{"kind":"command","command":{"name":"stop"}}}\n');
    const bad = await commandOutput(() => inspectCommand(['--record', notRecord, '--listen', '127.0.0.1:0'], now));
    expect(bad).toEqual({ code: 1, out: expect.stringContaining('is not an ikekm record') });
    const gone = await commandOutput(() => inspectCommand(['--socket', join(dir, 'nobody.sock'), '--listen', '127.0.0.1:0'], now));
    expect(gone.code).toBe(1);
    expect(gone.out).toContain('nobody.sock');
  });

  it('with a record: prints the address, serves the page and the steps, and stops when told', async () => {
    let stop = (): void => undefined;
    const until = new Promise<void>((resolve) => (stop = resolve));
    let listening = (_url: string): void => undefined;
    const served = new Promise<string>((resolve) => (listening = resolve));
    const running = commandOutput(() => inspectCommand(['--record', RECORD, '--listen', '127.0.0.1:0'], until, listening));
    const url = await served;
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('ikekm inspector');
    const events = await fetch(new URL('/steps', url));
    const text = await events.text();
    expect(text).toContain(`event: source\ndata: {"kind":"record","name":"${RECORD}"}`);
    expect(text).toContain('event: end');
    stop();
    const { code, out } = await running;
    expect(code).toBe(0);
    expect(out).toContain(`to step through the record ${RECORD}`);
  });
});
