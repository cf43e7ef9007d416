/**
 * The flooder of `npm run bench:flood` (flood.bench.ts), run inside its own network namespace:
 *
 *     ip netns exec NS node --import tsx bench/flood-sender.ts CONFIG.json
 *
 * Sends `count` IKE_SA_INIT requests to `target`, paced at `ratePerSecond`, from many source
 * addresses (one UDP socket bound to each address of `sources`, which the namespace holds on its
 * veth; a spoofer's addresses as far as the target can tell) with a random SPIi each: the request
 * is a real one recorded from ikekm (test/fuzz/seeds), only the SPI changes. With `echoCookies`
 * it answers every COOKIE notify (RFC 7296 2.6) by sending the request again with the COOKIE
 * first, as a flooder that receives the target's answers can. Prints one JSON line of counts at
 * the end.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';

export interface FloodConfig {
  readonly target: string;
  readonly port: number;
  readonly sources: readonly string[];
  readonly count: number;
  readonly ratePerSecond: number;
  readonly echoCookies: boolean;
  /** The IKE_SA_INIT request to send, hex (its SPIi is replaced each time). */
  readonly template: string;
}

export interface FloodCounts {
  readonly sent: number;
  readonly cookieEchoes: number;
  /** Answers with a COOKIE notify. */
  readonly cookies: number;
  /** IKE_SA_INIT answers without one: a half-open SA at the target. */
  readonly answers: number;
  readonly otherAnswers: number;
  readonly sendErrors: number;
  readonly seconds: number;
}

const COOKIE = 16390;
const NOTIFY = 41;

/** The COOKIE notify data of an IKE_SA_INIT answer, if it carries one. */
function cookieOf(m: Buffer): Buffer | undefined {
  let type = m[16] ?? 0;
  let offset = 28;
  while (type !== 0 && offset + 4 <= m.length) {
    const length = m.readUInt16BE(offset + 2);
    if (length < 4 || offset + length > m.length) return undefined;
    if (type === NOTIFY && length >= 8 && m.readUInt16BE(offset + 6) === COOKIE) return m.subarray(offset + 8, offset + length);
    type = m[offset]!;
    offset += length;
  }
  return undefined;
}

/** The request again with N(COOKIE) first (RFC 7296 2.6), for the SPIi of the answer. */
export function withCookie(template: Buffer, spiI: Buffer, cookie: Buffer): Buffer {
  const notify = Buffer.alloc(8 + cookie.length);
  notify[0] = template[16]!; // the request's first payload follows the notify
  notify.writeUInt16BE(notify.length, 2);
  notify.writeUInt16BE(COOKIE, 6);
  cookie.copy(notify, 8);
  const out = Buffer.concat([template.subarray(0, 28), notify, template.subarray(28)]);
  spiI.copy(out, 0);
  out[16] = NOTIFY;
  out.writeUInt32BE(out.length, 24);
  return out;
}

if (process.argv[1]?.endsWith('flood-sender.ts') === true) {
  const config = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as FloodConfig;
  const template = Buffer.from(config.template, 'hex');
  const counts = { sent: 0, cookieEchoes: 0, cookies: 0, answers: 0, otherAnswers: 0, sendErrors: 0, seconds: 0 };
  const started = performance.now();
  const sockets: Socket[] = await Promise.all(
    config.sources.map(
      (address) =>
        new Promise<Socket>((resolve) => {
          const s = createSocket({ type: 'udp4', sendBufferSize: 1 << 20 });
          s.on('error', () => void counts.sendErrors++);
          s.on('message', (m) => {
            if (m.length < 28 || m[18] !== 34 || (m[19]! & 0x20) === 0) return void counts.otherAnswers++;
            const cookie = cookieOf(m);
            if (cookie === undefined) return void counts.answers++;
            counts.cookies++;
            if (!config.echoCookies) return;
            counts.cookieEchoes++;
            s.send(withCookie(template, m.subarray(0, 8), cookie), config.port, config.target, (e) => e && counts.sendErrors++);
          });
          s.bind(0, address, () => resolve(s));
        }),
    ),
  );
  const perTick = Math.max(1, Math.round(config.ratePerSecond / 100));
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      for (let i = 0; i < perTick && counts.sent < config.count; i++) {
        const m = Buffer.from(template);
        randomBytes(8).copy(m, 0);
        sockets[next++ % sockets.length]!.send(m, config.port, config.target, (e) => e && counts.sendErrors++);
        counts.sent++;
      }
      if (counts.sent >= config.count) {
        clearInterval(tick);
        resolve();
      }
    }, 10);
  });
  // Answers (and cookie echoes) still in flight.
  await new Promise((r) => setTimeout(r, 2_000));
  counts.seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${JSON.stringify(counts)}\n`);
  for (const s of sockets) s.close();
}
