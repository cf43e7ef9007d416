/**
 * Admission of new IKE SAs under attack (RFC 7296 2.6, RFC 8019): COOKIEs per source address as
 * strongSwan demands them, its per-address block threshold, the cap on new negotiations per
 * second, the memory budget of half-open SAs, the backoff after failed authentications (online
 * PSK guessing), and the refusal of new SAs while the daemon stops. All in virtual time.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_ENGINE_SETTINGS, type EngineSettings } from '../../src/config/model.js';
import { HALF_OPEN_STATE_BYTES } from '../../machines/supervisor/half-open-table.js';
import type { Datagram } from '../../src/ports.js';
import { ExchangeType } from '../../src/wire/index.js';
import { connectionPair } from './fixtures.js';
import { Lab } from './lab.js';
import { cookieIn, decoded, strangerInit, type StrangerAttempt } from './stranger-initiator.js';

/** The COOKIE the responder answered `attempt` with (answers to one address may interleave). */
const cookieFor = (answers: readonly Buffer[], attempt: StrangerAttempt): Buffer | undefined =>
  answers.filter((a) => decoded(a).header.spiI.equals(attempt.spiI)).map(cookieIn).find((c) => c !== undefined);

/** B answers IKE_SA_INIT from any address; what B sends to `addresses` is collected. */
function openResponder(settings: Partial<EngineSettings> = {}, addresses: readonly string[] = []) {
  const lab = new Lab({ settingsB: settings });
  const { b } = connectionPair();
  lab.b.engine.reload({ settings: { ...DEFAULT_ENGINE_SETTINGS, ...settings }, connections: [{ ...b, remote: { ...b.remote, address: '%any' } }] });
  const answers = new Map<string, Buffer[]>();
  for (const address of addresses) {
    answers.set(address, []);
    lab.network.attach({ address, port: 500 }, (d: Datagram) => answers.get(address)!.push(d.bytes));
  }
  return { lab, answers };
}

const both = (lab: Lab) => () => lab.established(lab.a) && lab.established(lab.b);

describe('COOKIEs and limits per source address (strongSwan cookie_threshold_ip, block_threshold)', () => {
  it('an address with cookieThresholdPerAddress half-open SAs must return a COOKIE, others need none; at blockThresholdPerAddress it is dropped', async () => {
    const flooder = '198.51.100.77';
    const other = '198.51.100.78';
    const { lab, answers } = openResponder({}, [flooder, other]);
    expect(DEFAULT_ENGINE_SETTINGS).toMatchObject({ cookieThreshold: 30, cookieThresholdPerAddress: 3, blockThresholdPerAddress: 5 });
    for (let i = 0; i < 3; i++) lab.b.engine.receive(strangerInit(flooder).datagram);
    await lab.run(100);
    expect(lab.b.engine.halfOpen()).toBe(3);
    expect(answers.get(flooder)!.map((a) => cookieIn(a))).toEqual([undefined, undefined, undefined]);

    // The fourth from the same address: a stateless COOKIE answer, no state (2.6).
    const fourth = strangerInit(flooder);
    lab.b.engine.receive(fourth.datagram);
    await lab.run(100);
    expect(lab.b.engine.halfOpen()).toBe(3);
    expect(lab.b.engine.counters().cookiesSent).toBe(1);
    const cookie = cookieFor(answers.get(flooder)!, fourth);
    expect(cookie).toBeDefined();

    // Far below the global threshold, another address is not asked for one.
    lab.b.engine.receive(strangerInit(other).datagram);
    await lab.run(100);
    expect(lab.b.engine.halfOpen()).toBe(4);
    expect(answers.get(other)!.map((a) => cookieIn(a))).toEqual([undefined]);

    // With the COOKIE returned the fourth is admitted; a fifth (with its own cookie) too.
    lab.b.engine.receive(fourth.withCookie(cookie!));
    const fifth = strangerInit(flooder);
    lab.b.engine.receive(fifth.datagram);
    await lab.run(100);
    const fifthCookie = cookieFor(answers.get(flooder)!, fifth);
    expect(fifthCookie).toBeDefined();
    lab.b.engine.receive(fifth.withCookie(fifthCookie!));
    await lab.run(100);
    expect(lab.b.engine.halfOpen()).toBe(6);

    // Five half-open SAs from the flooder: even a valid COOKIE does not get it a sixth.
    const sixth = strangerInit(flooder);
    lab.b.engine.receive(sixth.datagram);
    await lab.run(100);
    const sixthCookie = cookieFor(answers.get(flooder)!, sixth);
    expect(sixthCookie).toBeDefined();
    const before = answers.get(flooder)!.length;
    lab.b.engine.receive(sixth.withCookie(sixthCookie!));
    await lab.run(100);
    expect(lab.b.engine.counters().refusedPerAddress).toBe(1);
    expect(answers.get(flooder)!.length).toBe(before);
    expect(lab.b.engine.halfOpen()).toBe(6);
  });

  it('a legitimate initiator behind a flooded address still gets in by returning the COOKIE', async () => {
    const { lab } = openResponder({});
    for (let i = 0; i < 3; i++) lab.b.engine.receive(strangerInit('192.0.2.1').datagram);
    lab.network.traceEnabled = true;
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab), 30_000)).toBe(true);
    expect(lab.b.engine.counters().cookiesSent).toBeGreaterThanOrEqual(1);
  });
});

describe('the cap on new negotiations per second', () => {
  it('beyond ikeSaInitPerSecond, IKE_SA_INIT requests are dropped before any DH work, and admitted again a second later', async () => {
    const addresses = Array.from({ length: 12 }, (_, i) => `198.51.100.${10 + i}`);
    const { lab, answers } = openResponder({ ikeSaInitPerSecond: 5 }, addresses);
    for (const address of addresses.slice(0, 10)) lab.b.engine.receive(strangerInit(address).datagram);
    await lab.run(10);
    expect(lab.b.engine.halfOpen()).toBe(5);
    expect(lab.b.engine.counters().refusedRate).toBe(5);
    // The dropped ones got no answer at all.
    expect(addresses.slice(0, 10).filter((a) => answers.get(a)!.length > 0)).toHaveLength(5);
    await lab.run(1000);
    for (const address of addresses.slice(10)) lab.b.engine.receive(strangerInit(address).datagram);
    await lab.run(10);
    expect(lab.b.engine.halfOpen()).toBe(7);
    expect(lab.b.engine.counters().refusedRate).toBe(5);
  });
});

describe('a configured peer under a flood that returns our COOKIEs', () => {
  /**
   * B has the connection naming A (192.0.2.1) and a road-warrior one (%any); 20 strangers send
   * IKE_SA_INIT and return the COOKIE they are asked for, until the limit in `settings` refuses
   * them. Then A initiates.
   */
  async function floodedResponder(settings: Partial<EngineSettings>) {
    const strangers = Array.from({ length: 20 }, (_, i) => `198.51.100.${100 + i}`);
    const lab = new Lab({ settingsB: settings });
    const { b } = connectionPair();
    lab.b.engine.reload({ settings: { ...DEFAULT_ENGINE_SETTINGS, ...settings }, connections: [b, { ...b, name: 'roadwarriors', remote: { ...b.remote, address: '%any' } }] });
    const answers = new Map<string, Buffer[]>(strangers.map((a) => [a, []]));
    for (const address of strangers) lab.network.attach({ address, port: 500 }, (d: Datagram) => answers.get(address)!.push(d.bytes));
    for (const address of strangers) {
      const attempt = strangerInit(address);
      lab.b.engine.receive(attempt.datagram);
      await lab.run(10);
      const cookie = cookieFor(answers.get(address)!, attempt);
      if (cookie !== undefined) lab.b.engine.receive(attempt.withCookie(cookie));
      await lab.run(10);
    }
    return lab;
  }

  it.each([
    { limit: 'maxHalfOpen', settings: { cookieThreshold: 1, maxHalfOpen: 8 }, admitted: 8, refused: 'refusedLimits' as const },
    // The bucket holds 2 and gains less than one more in the 0.4 s the strangers take.
    { limit: 'ikeSaInitPerSecond', settings: { cookieThreshold: 1, ikeSaInitPerSecond: 2 }, admitted: 2, refused: 'refusedRate' as const },
  ])('its IKE_SA_INIT with a valid COOKIE is admitted past $limit, which the strangers spent', async ({ settings, admitted, refused }) => {
    const lab = await floodedResponder(settings);
    expect(lab.b.engine.halfOpen()).toBe(admitted);
    expect(lab.b.engine.counters()[refused]).toBe(20 - admitted);
    lab.a.engine.initiate('lab');
    // Well before A's first retransmission (after 4 s): its first IKE_SA_INIT and the one
    // returning the COOKIE went through.
    expect(await lab.runUntil(both(lab), 2_000)).toBe(true);
    expect(lab.b.engine.counters()).toMatchObject({ admittedConfiguredPeer: 1, [refused]: 20 - admitted });
    // A stranger returning its COOKIE still is not.
    const late = strangerInit('198.51.100.200');
    const lateAnswers: Buffer[] = [];
    lab.network.attach({ address: '198.51.100.200', port: 500 }, (d: Datagram) => lateAnswers.push(d.bytes));
    lab.b.engine.receive(late.datagram);
    await lab.run(10);
    lab.b.engine.receive(late.withCookie(cookieFor(lateAnswers, late)!));
    await lab.run(10);
    expect(lab.b.engine.counters()[refused]).toBe(21 - admitted);
  });

  it('without a COOKIE demanded nothing proves the address: the configured peer waits like everyone else', async () => {
    const lab = await floodedResponder({ cookieThreshold: 0, cookieThresholdPerAddress: 0, maxHalfOpen: 8 });
    expect(lab.b.engine.halfOpen()).toBe(8);
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab), 2_000)).toBe(false);
    expect(lab.b.engine.counters()).toMatchObject({ admittedConfiguredPeer: 0, refusedLimits: 13 });
  });
});

describe('no new DH work while the event loop has no time to spare (loadLimitPercent)', () => {
  /** B with the connection naming A and a road-warrior one; B's LoadPort says `load()`. */
  function busyResponder(load: () => number, settings: Partial<EngineSettings>) {
    const lab = new Lab({ load: (side) => ({ utilization: () => (side === 'b' ? load() : 0) }), settingsB: settings });
    const { b } = connectionPair();
    const reload = (more: Partial<EngineSettings> = {}) =>
      lab.b.engine.reload({ settings: { ...DEFAULT_ENGINE_SETTINGS, ...settings, ...more }, connections: [b, { ...b, name: 'roadwarriors', remote: { ...b.remote, address: '%any' } }] });
    reload();
    return { lab, reload };
  }

  it('refuses new negotiations while busier than the limit, before they spend a token of the rate', async () => {
    let load = 0.95;
    const { lab } = busyResponder(() => load, { ikeSaInitPerSecond: 2 });
    expect(DEFAULT_ENGINE_SETTINGS.loadLimitPercent).toBe(90);
    for (const address of ['198.51.100.60', '198.51.100.61']) lab.b.engine.receive(strangerInit(address).datagram);
    await lab.run(10);
    expect(lab.b.engine.halfOpen()).toBe(0);
    expect(lab.b.engine.counters()).toMatchObject({ refusedLoad: 2, refusedRate: 0 });
    // No longer busy: the bucket still holds its 2 tokens (10 ms added a fiftieth of one).
    load = 0.5;
    for (const address of ['198.51.100.62', '198.51.100.63', '198.51.100.64']) lab.b.engine.receive(strangerInit(address).datagram);
    await lab.run(10);
    expect(lab.b.engine.halfOpen()).toBe(2);
    expect(lab.b.engine.counters()).toMatchObject({ refusedLoad: 2, refusedRate: 1 });
  });

  it('a configured peer that returns its COOKIE is admitted however busy; loadLimitPercent 0 turns the limit off', async () => {
    let load = 0;
    const { lab, reload } = busyResponder(() => load, { cookieThreshold: 2 });
    for (const address of ['198.51.100.70', '198.51.100.71']) lab.b.engine.receive(strangerInit(address).datagram);
    await lab.run(10);
    expect(lab.b.engine.halfOpen()).toBe(2); // COOKIEs demanded from here on
    load = 1;
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab), 2_000)).toBe(true);
    expect(lab.b.engine.counters()).toMatchObject({ admittedConfiguredPeer: 1, refusedLoad: 0 });

    const stranger = strangerInit('198.51.100.72');
    const answers: Buffer[] = [];
    lab.network.attach({ address: '198.51.100.72', port: 500 }, (d: Datagram) => answers.push(d.bytes));
    lab.b.engine.receive(stranger.datagram);
    await lab.run(10);
    const cookie = cookieFor(answers, stranger)!;
    lab.b.engine.receive(stranger.withCookie(cookie));
    await lab.run(10);
    expect(lab.b.engine.counters().refusedLoad).toBe(1);
    reload({ loadLimitPercent: 0 });
    lab.b.engine.receive(stranger.withCookie(cookie));
    await lab.run(10);
    expect(lab.b.engine.counters().refusedLoad).toBe(1);
    expect(lab.b.engine.halfOpen()).toBe(3);
  });
});

describe('the memory budget of half-open SAs', () => {
  it('counts each half-open SA as its request plus its state, refuses beyond the budget, and frees it when the SA goes', async () => {
    const addresses = Array.from({ length: 4 }, (_, i) => `198.51.100.${40 + i}`);
    const attempts = addresses.map((a) => strangerInit(a));
    const cost = attempts[0]!.datagram.bytes.length + HALF_OPEN_STATE_BYTES;
    const { lab } = openResponder({ halfOpenBudgetBytes: 2 * cost + cost / 2 }, addresses);
    for (const attempt of attempts.slice(0, 3)) lab.b.engine.receive(attempt.datagram);
    await lab.run(10);
    expect(lab.b.engine.halfOpen()).toBe(2);
    expect(lab.b.engine.counters().refusedBudget).toBe(1);
    // The half-open SAs time out (no IKE_AUTH within 30 s): their budget comes back.
    await lab.run(31_000);
    expect(lab.b.engine.halfOpen()).toBe(0);
    lab.b.engine.receive(attempts[3]!.datagram);
    await lab.run(10);
    expect(lab.b.engine.halfOpen()).toBe(1);
  });
});

describe('online PSK guessing (RFC 7296 5)', () => {
  it('an initiator failing authentication is blocked after authFailuresBeforeBackoff failures, another address is not, and the block ends', async () => {
    // A guesses with a wrong PSK from 192.0.2.1 ("lab"); "good" runs from 192.0.2.3 with the right one.
    const wrong = connectionPair({ psk: 'a guess', pskB: 'the real key' });
    const good = connectionPair({ name: 'good', addressA: '192.0.2.3', psk: 'the real key' });
    const lab = new Lab({ connections: { a: [{ ...wrong.a, initialContact: false }, good.a], b: [wrong.b, good.b] } });
    lab.network.attach({ address: '192.0.2.3', port: 500 }, (d) => lab.a.engine.receive(d));
    lab.network.attach({ address: '192.0.2.3', port: 4500 }, (d) => lab.a.engine.receive(d));
    const failures = () => lab.a.events.filter((e) => e.kind === 'ike-sa-failed' && e.notify === 'AUTHENTICATION_FAILED').length;
    for (let i = 1; i <= DEFAULT_ENGINE_SETTINGS.authFailuresBeforeBackoff; i++) {
      lab.a.engine.initiate('lab');
      expect(await lab.runUntil(() => failures() === i, 30_000)).toBe(true);
    }
    expect(lab.b.engine.counters().authFailures).toBe(3);
    const blockedAt = lab.scheduler.now();
    expect(lab.b.logs.some((r) => r.level === 'warn' && r.fields.remote === '192.0.2.1' && r.fields.blockedSeconds === DEFAULT_ENGINE_SETTINGS.authBackoffSeconds)).toBe(true);

    // The guesser now has the right key, but its address is blocked: its IKE_SA_INITs are dropped.
    lab.a.engine.reload({ settings: DEFAULT_ENGINE_SETTINGS, connections: [{ ...connectionPair({ psk: 'the real key' }).a, initialContact: false }, good.a] });
    lab.a.engine.initiate('lab');
    // Meanwhile a peer at another address is not affected.
    lab.a.engine.initiate('good');
    expect(await lab.runUntil(() => lab.b.engine.status().some((s) => s.connection === 'good' && s.state === 'established'), 5_000)).toBe(true);
    await lab.run(1_000);
    expect(lab.b.engine.counters().refusedAuthBackoff).toBeGreaterThanOrEqual(1);
    expect(lab.b.engine.status().some((s) => s.connection === 'lab')).toBe(false);

    // Unblocked after authBackoffSeconds: a retransmission of the same IKE_SA_INIT gets through.
    const up = await lab.runUntil(() => lab.b.engine.status().some((s) => s.connection === 'lab' && s.state === 'established'), 60_000);
    expect(up).toBe(true);
    expect(lab.scheduler.now() - blockedAt).toBeGreaterThanOrEqual(DEFAULT_ENGINE_SETTINGS.authBackoffSeconds * 1000);
  });
});

describe('shutdown: no new IKE SAs from the moment the daemon stops', () => {
  it('after refuseNewSas a new IKE_SA_INIT is not answered, and initiate is refused', async () => {
    const lab = new Lab();
    lab.b.engine.refuseNewSas();
    lab.network.traceEnabled = true;
    lab.a.engine.initiate('lab');
    await lab.run(30_000);
    expect(lab.b.engine.size()).toBe(0);
    expect(lab.b.engine.counters().refusedShutdown).toBeGreaterThanOrEqual(1);
    expect(lab.network.trace.filter((d) => d.local.address === lab.b.address)).toHaveLength(0);
    expect(() => lab.b.engine.initiate('lab')).toThrow(/stopping/);
  });

  it("after refuseNewSas the peer's new Child SA gets NO_ADDITIONAL_SAS and reaches no kernel; a Child SA rekey still passes", async () => {
    const lab = new Lab();
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab), 30_000)).toBe(true);
    const kernelSas = lab.b.kernel.sas().length;
    lab.b.engine.refuseNewSas();
    const id = lab.a.engine.status()[0]!.id;
    lab.a.engine.createChildSa(id);
    await lab.run(10_000);
    expect(lab.a.events.filter((e) => e.kind === 'child-sa-failed')).toMatchObject([{ notify: 'NO_ADDITIONAL_SAS' }]);
    expect(lab.b.kernel.sas()).toHaveLength(kernelSas);
    expect(lab.b.logs.some((r) => r.message === "the peer's new Child SA refused: stopping")).toBe(true);
    // A rekey replaces a Child SA the stop deletes anyway: refusing it would only log an error at the peer.
    const spi = lab.a.engine.status()[0]!.children[0]!.inboundSpi;
    lab.a.engine.rekeyChildSa(id, spi);
    await lab.run(10_000);
    expect(lab.a.events.filter((e) => e.kind === 'child-sa-up')).toMatchObject([{}, { rekeyOf: spi }]);
  });

  it("a peer's IKE SA rekey that gets through while stopping leaves no IKE SA on either side", async () => {
    const lab = new Lab();
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab), 30_000)).toBe(true);
    lab.b.engine.refuseNewSas();
    lab.network.traceEnabled = true;
    lab.a.engine.rekeyIkeSa(lab.a.engine.status()[0]!.id);
    // Past the 60 s a deleted IKE SA lingers to answer a retransmitted Delete.
    await lab.run(120_000);
    expect(lab.network.trace.some((d) => decoded(d.bytes).header.exchangeType === ExchangeType.CREATE_CHILD_SA)).toBe(true);
    expect(lab.b.engine.size()).toBe(0);
    expect(lab.a.engine.size()).toBe(0);
    expect(lab.a.kernel.sas()).toHaveLength(0);
    expect(lab.b.kernel.sas()).toHaveLength(0);
  });
});
