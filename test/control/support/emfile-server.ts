/**
 * A ControlServer in its own process, for the EMFILE test: run under `prlimit --nofile=N`, it
 * uses up every file descriptor on "fill" (so accept() fails with EMFILE) and gives them back on
 * "free". It prints JSON lines: its warnings and what it did.
 *
 *   node --import tsx emfile-server.ts SOCKET_PATH
 */
import { closeSync, openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Subject } from 'rxjs';
import { ControlServer } from '../../../src/control/control-server.js';

const say = (line: object): void => void process.stdout.write(`${JSON.stringify(line)}\n`);
const path = process.argv[2] ?? '';
const server = await ControlServer.listen(
  path,
  {
    up: async () => null,
    down: async () => null,
    rekey: async () => null,
    reload: async () => null,
    status: async () => ({ ikeSas: [] }),
    events$: new Subject(),
    journal$: () => new Subject<never>(),
    recordStart: async () => null,
    recordStop: async () => null,
  },
  { log: { warn: (fields, msg) => say({ level: 'warn', ...fields, msg }) } },
);
say({ msg: 'listening' });

const held: number[] = [];
createInterface({ input: process.stdin }).on('line', (command) => {
  if (command === 'fill') {
    for (;;) {
      try {
        held.push(openSync('/dev/null', 'r'));
      } catch (error) {
        say({ msg: 'full', code: (error as NodeJS.ErrnoException).code, held: held.length });
        return;
      }
    }
  }
  if (command === 'free') {
    for (const fd of held.splice(0)) closeSync(fd);
    say({ msg: 'freed' });
  }
  if (command === 'exit') void server.close().then(() => process.exit(0));
});
