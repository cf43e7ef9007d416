/**
 * Requests for IKE SAs we do not know (RFC 7296 2.21.4): answered, unprotected, with
 * INVALID_IKE_SPI to the address and port they came from, same SPIs, same Message ID; a
 * response is never answered; the answers are rate-limited so ikekm is no reflector.
 */
import { describe, expect, it } from 'vitest';
import type { Datagram } from '../../src/ports.js';
import { ExchangeType, NotifyType, encodeMessage, ikeMessage } from '../../src/wire/index.js';
import { Lab } from './lab.js';
import { decoded, notifiesOf } from './stranger-initiator.js';

const PEER = { address: '198.51.100.9', port: 4500 };
const B = { address: '192.0.2.2', port: 4500 };

/** A message for an SA B never had, from PEER's NAT-T port. */
function unknownSaMessage(o: { spiI: string; spiR: string; messageId: number; response: boolean; initiator: boolean; exchangeType?: number }): Datagram {
  const bytes = encodeMessage(
    ikeMessage(
      {
        spiI: Buffer.from(o.spiI, 'hex'),
        spiR: Buffer.from(o.spiR, 'hex'),
        majorVersion: 2,
        minorVersion: 0,
        exchangeType: o.exchangeType ?? ExchangeType.INFORMATIONAL,
        flags: { initiator: o.initiator, version: false, response: o.response },
        messageId: o.messageId,
      },
      [],
    ),
  );
  return { local: B, remote: PEER, bytes };
}

function listen(lab: Lab): Buffer[] {
  const answers: Buffer[] = [];
  lab.network.attach(PEER, (d) => answers.push(d.bytes));
  return answers;
}

describe('INVALID_IKE_SPI (RFC 7296 2.21.4)', () => {
  it('a request with an unknown SPI gets an unprotected INVALID_IKE_SPI response: same SPIs and Message ID, to where it came from', async () => {
    const lab = new Lab();
    const answers = listen(lab);
    lab.b.engine.receive(unknownSaMessage({ spiI: '0102030405060708', spiR: '1112131415161718', messageId: 7, response: false, initiator: true }));
    await lab.run(100);
    expect(answers).toHaveLength(1);
    // HDR (28 octets, next payload N = 41, IKEv2, INFORMATIONAL = 37, flags R, Message ID 7, length 36),
    // then N (protocol 0, SPI size 0, type INVALID_IKE_SPI = 4, no data): RFC 7296 3.1, 3.10.
    expect(answers[0]!.toString('hex')).toBe(
      '0102030405060708' + '1112131415161718' + '29' + '20' + '25' + '20' + '00000007' + '00000024' + '00000008' + '00' + '00' + '0004',
    );
    const m = decoded(answers[0]!);
    expect(m.header).toMatchObject({ exchangeType: ExchangeType.INFORMATIONAL, messageId: 7, flags: { response: true, initiator: false } });
    expect(notifiesOf(m).map((n) => [n.notifyType, n.protocolId, n.spi.length, n.data.length])).toEqual([[NotifyType.INVALID_IKE_SPI, 0, 0, 0]]);
    expect(lab.b.engine.counters()).toMatchObject({ unknownSpi: 1, invalidSpiSent: 1 });
  });

  it('a request from the original responder gets the I flag set in the answer; the exchange type is the request\'s', async () => {
    const lab = new Lab();
    const answers = listen(lab);
    lab.b.engine.receive(unknownSaMessage({ spiI: 'aa00000000000001', spiR: 'bb00000000000002', messageId: 3, response: false, initiator: false, exchangeType: ExchangeType.CREATE_CHILD_SA }));
    await lab.run(100);
    const m = decoded(answers[0]!);
    expect(m.header).toMatchObject({ exchangeType: ExchangeType.CREATE_CHILD_SA, messageId: 3, flags: { response: true, initiator: true } });
    expect(m.header.spiI.toString('hex')).toBe('aa00000000000001');
    expect(m.header.spiR.toString('hex')).toBe('bb00000000000002');
  });

  it('a response with an unknown SPI, or an IKE_SA_INIT for an SA it does not know, is never answered', async () => {
    const lab = new Lab();
    const answers = listen(lab);
    lab.b.engine.receive(unknownSaMessage({ spiI: '0102030405060708', spiR: '1112131415161718', messageId: 7, response: true, initiator: false }));
    lab.b.engine.receive(unknownSaMessage({ spiI: '0102030405060708', spiR: '1112131415161718', messageId: 0, response: false, initiator: true, exchangeType: ExchangeType.IKE_SA_INIT }));
    await lab.run(100);
    expect(answers).toHaveLength(0);
    expect(lab.b.engine.counters()).toMatchObject({ unknownSpi: 2, unknownSpiResponses: 1, invalidSpiSent: 0 });
  });

  it('answers are rate-limited (invalidSpiAnswersPerSecond, a burst of as many)', async () => {
    const lab = new Lab({ settingsB: { invalidSpiAnswersPerSecond: 10 } });
    const answers = listen(lab);
    const flood = (n: number) => {
      for (let i = 0; i < n; i++) lab.b.engine.receive(unknownSaMessage({ spiI: '0102030405060708', spiR: (0x1000 + i).toString(16).padStart(16, '0'), messageId: i, response: false, initiator: true }));
    };
    flood(25);
    await lab.run(100);
    expect(answers).toHaveLength(10);
    expect(lab.b.engine.counters()).toMatchObject({ unknownSpi: 25, invalidSpiSent: 10, invalidSpiRateLimited: 15 });
    await lab.run(1000);
    flood(25);
    await lab.run(100);
    expect(answers).toHaveLength(20);
  });

  it('a peer that lost its IKE SA (restart) is told INVALID_IKE_SPI when the other side sends on it', async () => {
    const lab = new Lab();
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(() => lab.established(lab.a) && lab.established(lab.b), 30_000)).toBe(true);
    const [sa] = lab.a.engine.status();
    lab.restart('b');
    lab.network.traceEnabled = true;
    lab.a.engine.rekeyChildSa(sa!.id);
    await lab.run(100);
    const fromB = lab.network.trace.filter((d) => d.local.address === lab.b.address).map((d) => decoded(d.bytes));
    expect(fromB).toHaveLength(1);
    expect(fromB[0]!.header.spiI.toString('hex')).toBe(sa!.spiI);
    expect(notifiesOf(fromB[0]!).map((n) => n.notifyType)).toEqual([NotifyType.INVALID_IKE_SPI]);
  });
});
