/**
 * One ikekm IKEv2 engine on real UDP, for the interop lab: run inside a network namespace as
 *
 *     ip netns exec NS node --import tsx test/interop/support/ikekm-peer.ts CONFIG.json
 *
 * It takes the daemon's own ports (`openRuntimePorts`: UdpTransport on the configured address,
 * ports 500/4500 by default, the RxJS timer service on asyncScheduler, KeylogKernel over
 * MemoryKernel with both Wireshark key tables in `paths.keylogDir`, node:crypto randomness) and
 * pino at level debug into a file, around `createIkeEngine`.
 *
 * Control is JSON lines (test/interop/harness/ikekm.ts speaks it):
 *   stdin   {"id":N,"cmd":"initiate","connection":"lab"}
 *           {"id":N,"cmd":"terminate","connection":"lab"} | {"id":N,"cmd":"terminate","ike":"<IKE SA id>"}
 *           {"id":N,"cmd":"rekey","ike":"<id>"}                      IKE SA rekey
 *           {"id":N,"cmd":"rekey","ike":"<id>","child":"<inbound SPI hex>"|"*"}   Child SA rekey
 *           {"id":N,"cmd":"create-child","ike":"<id>"} | {"id":N,"cmd":"delete-child","ike":"<id>","child":"<inbound SPI hex>"}
 *           {"id":N,"cmd":"reload","connections":[…]}             engine.reload with new connections
 *           {"id":N,"cmd":"status"} | {"id":N,"cmd":"kernel"} (MemoryKernel SAs and policies, keys redacted)
 *           {"id":N,"cmd":"transport"} | {"id":N,"cmd":"flush"} | {"id":N,"cmd":"quit"}
 *   stdout  {"type":"ready","pid":P,"bound":[…]}
 *           {"type":"reply","id":N,"ok":true,"result":…} | {"type":"reply","id":N,"ok":false,"error":"…"}
 *           {"type":"event","event":SaEvent}                       every SaEvent, as it happens
 *           {"type":"ike-keylog","spiI":"…","spiR":"…"}            an IKE SA's line is on disk
 *           {"type":"transport-error","code":"…","message":"…"}
 * SIGTERM, `quit` or the end of stdin: terminate every connection (Deletes to the peer), wait
 * up to `shutdownGraceMs` for the SAs to go, stop the engine, close the sockets, flush the key
 * tables, exit 0.
 *
 * The IKE key log is the engine's own hook: `keylog.ikeSaEstablished(keys)` (IkeKeylogPort), called
 * for every established IKE SA, initial or rekeyed, goes to an Ikev2KeylogWriter; once the line is
 * on disk the peer says so on stdout (SPIs only). Keys never go to stdout or to the log.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { cryptoRegistry } from '../../../src/crypto/registry.js';
import type { IkeKeylogPort } from '../../../src/engine/engine-ports.js';
import { createIkeEngine, type IkeEngine } from '../../../src/engine/ike-engine.js';
import { openRuntimePorts } from '../../../src/daemon/runtime-ports.js';
import { createLogger } from '../../../src/log/logger.js';
import { ikeSpiHex } from '../../../src/wire/spi-text.js';
import { toEngineConfig, type PeerConfigJson } from './ikekm-peer-config.js';

type Command =
  | { readonly id: number; readonly cmd: 'initiate'; readonly connection: string }
  | { readonly id: number; readonly cmd: 'terminate'; readonly connection?: string; readonly ike?: string }
  | { readonly id: number; readonly cmd: 'rekey'; readonly ike: string; readonly child?: string }
  | { readonly id: number; readonly cmd: 'create-child'; readonly ike: string }
  | { readonly id: number; readonly cmd: 'delete-child'; readonly ike: string; readonly child: string }
  | { readonly id: number; readonly cmd: 'reload'; readonly connections: PeerConfigJson['connections'] }
  | { readonly id: number; readonly cmd: 'status' | 'kernel' | 'transport' | 'flush' | 'quit' };

const out = (message: object): void => {
  process.stdout.write(`${JSON.stringify(message)}\n`);
};

async function main(): Promise<void> {
  const configPath = process.argv[2];
  if (configPath === undefined) throw new Error('usage: ikekm-peer.ts CONFIG.json');
  const json = JSON.parse(readFileSync(configPath, 'utf8')) as PeerConfigJson;
  let config = toEngineConfig(json);

  const log = createLogger({ level: 'debug', destination: json.paths.log });
  let engine: IkeEngine | undefined;
  // The daemon's own port wiring (src/daemon/runtime-ports.ts), with the key tables in keylogDir.
  const ports = await openRuntimePorts({
    listen: json.bind,
    ikePort: json.ikePort,
    nattPort: json.nattPort,
    localAddresses: json.bind,
    // charon carries the lab's traffic (kernel-libipsec); this peer only negotiates.
    kernel: 'memory',
    keylogDir: json.paths.keylogDir,
    log,
    onDatagram: (datagram) => engine?.receive(datagram),
    deliverTimer: (owner, event) => engine?.deliverTimer(owner, event),
    onTransportError: (error) => out({ type: 'transport-error', code: error.code, message: error.message }),
  });
  const { transport, timers, memory, kernel } = ports;
  if (memory === undefined) throw new Error('the interop peer runs on the memory kernel');
  const ikeKeylog = ports.keylog;
  if (ikeKeylog === undefined) throw new Error('the peer always writes key tables');

  const keylog: IkeKeylogPort = {
    async ikeSaEstablished(keys) {
      await ikeKeylog.ikeSaEstablished(keys);
      await ports.flush();
      out({ type: 'ike-keylog', spiI: ikeSpiHex(keys.SPIi), spiR: ikeSpiHex(keys.SPIr) });
    },
  };

  engine = createIkeEngine({
    config,
    ports: { network: transport, timers, clock: timers, log, random: ports.random, kernel, registry: cryptoRegistry },
    onEvent: (event) => out({ type: 'event', event }),
    keylog,
  });
  const running = engine;

  let shuttingDown: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    shuttingDown ??= (async () => {
      const graceMs = json.shutdownGraceMs ?? 3000;
      running.terminateAll('peer shutting down');
      const deadline = Date.now() + graceMs;
      // An IKE SA deleted by the peer lingers (answering retransmitted Deletes): nothing to wait for.
      while (running.status().some((sa) => sa.state !== 'lingering') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      running.stop();
      await ports.close();
      log.info({ left: running.size() }, 'interop peer stopped');
      log.flush();
    })();
    return shuttingDown;
  };

  const handle = async (command: Command): Promise<unknown> => {
    switch (command.cmd) {
      case 'initiate':
        return running.initiate(command.connection);
      case 'terminate':
        if (command.ike !== undefined) running.terminate({ id: command.ike });
        else if (command.connection !== undefined) running.terminate({ connection: command.connection });
        else throw new Error('terminate needs "connection" or "ike"');
        return null;
      case 'rekey':
        if (command.child === undefined) running.rekeyIkeSa(command.ike);
        else running.rekeyChildSa(command.ike, command.child === '*' ? undefined : command.child);
        return null;
      case 'reload':
        config = toEngineConfig({ ...json, connections: command.connections });
        running.reload(config);
        return null;
      case 'create-child':
        running.createChildSa(command.ike);
        return null;
      case 'delete-child':
        running.deleteChildSa(command.ike, command.child);
        return null;
      case 'status':
        return running.status();
      case 'kernel':
        return memory.toJSON();
      case 'transport':
        return transport.stats();
      case 'flush':
        await ports.flush();
        return null;
      case 'quit':
        await shutdown();
        return null;
    }
  };

  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    let command: Command;
    try {
      command = JSON.parse(line) as Command;
    } catch (error) {
      out({ type: 'reply', id: null, ok: false, error: `not JSON: ${(error as Error).message}` });
      return;
    }
    handle(command).then(
      (result) => {
        out({ type: 'reply', id: command.id, ok: true, result: result ?? null });
        if (command.cmd === 'quit') process.exit(0);
      },
      (error: unknown) => out({ type: 'reply', id: command.id, ok: false, error: (error as Error).message }),
    );
  });
  // The test runner went away: do not outlive it.
  lines.on('close', () => void shutdown().then(() => process.exit(0)));
  process.on('SIGTERM', () => void shutdown().then(() => process.exit(0)));
  process.on('SIGINT', () => void shutdown().then(() => process.exit(0)));

  log.info({ bound: transport.boundEndpoints(), connections: config.connections.map((c) => c.name) }, 'interop peer ready');
  out({ type: 'ready', pid: process.pid, bound: transport.boundEndpoints() });
}

function fatal(error: unknown): void {
  process.stderr.write(`ikekm-peer: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
}

main().catch(fatal);
