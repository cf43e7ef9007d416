/**
 * Reading the keys strongSwan derived out of charon's file log (filelog with ike = 4, chd = 4,
 * mgr = 2 and ike_name = yes), so a test can compare them with ikekm's own derivation or hand
 * them to tshark.
 *
 * Line format (no time_format configured): `TT[GRP] <CTX> MESSAGE`, where TT is the thread
 * number, GRP the log group (IKE, CHD, MGR, …) and CTX, present when the line belongs to an IKE
 * SA, is `NAME|UNIQUEID` or just `UNIQUEID` while the SA has no config yet.
 *
 * A chunk is logged as a header line and one line per 16 bytes, all on the same thread:
 *
 *   09[IKE] <lab|1> Sk_ei secret => 16 bytes @ 0x7fbd18002770
 *   09[IKE] <lab|1>    0: 2B 1F B6 2A F7 E6 A7 28 2A EF 9C D3 B6 49 D3 D9  +..*...(*....I..
 *
 * (`%4d: ` offset, the bytes as "XX " groups, then the printable-ASCII column, which can
 * contain anything, so the parser takes exactly as many hex groups as the header announced.)
 *
 * Which SA a key belongs to is not on the key lines, so it is inferred from what follows on
 * the same thread (one charon job handles one IKE SA from checkout to checkin):
 * - IKE SA keys (SKEYSEED, Sk_d … Sk_pr) belong to the next
 *   `checkin IKEv2 SA NAME[N] with SPIs SPII_i SPIR_r` on that thread. For an IKE SA rekey the
 *   new SA's keys are logged in the OLD SA's context on the initiator and in the new SA's
 *   context on the responder; the checkin that follows names the new SA on both.
 * - Child SA keys (`encryption initiator key` …) belong to the next
 *   `CHILD_SA NAME{N} established with SPIs SPIIN_i SPIOUT_o and TS …` on that thread (a rekeyed
 *   Child SA logs it twice, as `inbound CHILD_SA …` and `outbound CHILD_SA …`).
 */

export interface LogDump {
  /** Text before `=>`, e.g. "Sk_ei secret", "encryption initiator key". */
  readonly label: string;
  /** Lowercase hex, no separators. */
  readonly hex: string;
  readonly thread: number;
  /** IKE SA context of the line: connection name (if any) and unique id. */
  readonly context: LogContext | undefined;
  /** 1-based line number of the header line. */
  readonly line: number;
}

export interface LogContext {
  readonly name: string | undefined;
  readonly uniqueId: number;
}

/** Keys of one IKE SA (RFC 7296 2.13/2.14), lowercase hex. */
export interface IkeSaKeys {
  /** Connection name and unique id from the `checkin` line; undefined if none followed. */
  readonly name: string | undefined;
  readonly uniqueId: number | undefined;
  /** 16 lowercase hex digits each. */
  readonly spiI: string | undefined;
  readonly spiR: string | undefined;
  /** Context the keys were logged in (the old SA's, for a rekey seen from its initiator). */
  readonly context: LogContext | undefined;
  readonly line: number;
  /** g^ir, as charon logs it ("shared Diffie Hellman secret"). */
  readonly sharedSecret: string | undefined;
  readonly SKEYSEED: string | undefined;
  readonly SK_d: string | undefined;
  readonly SK_ai: string | undefined;
  readonly SK_ar: string | undefined;
  /** For AEAD/CTR ciphers these include the salt/nonce, as tshark's table wants them. */
  readonly SK_ei: string | undefined;
  readonly SK_er: string | undefined;
  readonly SK_pi: string | undefined;
  readonly SK_pr: string | undefined;
}

/** Keys of one Child SA (RFC 7296 2.17 KEYMAT split), lowercase hex. */
export interface ChildSaKeys {
  readonly name: string;
  readonly uniqueId: number;
  /** IKE SA (context) the Child SA was negotiated on. */
  readonly context: LogContext | undefined;
  /** SPI of this side's inbound SA, 8 lowercase hex digits. */
  readonly spiIn: string;
  /** SPI of this side's outbound SA. */
  readonly spiOut: string;
  /** Traffic selectors as logged: "198.51.100.1/32 === 203.0.113.1/32" split in two. */
  readonly localTs: string;
  readonly remoteTs: string;
  readonly line: number;
  /**
   * Keys for the initiator-to-responder direction and back, where "initiator" is the
   * initiator of the exchange that created this Child SA (IKE_AUTH or CREATE_CHILD_SA),
   * not necessarily of the IKE SA. For AES-GCM the encryption key includes the 4-byte salt.
   */
  readonly encryptionInitiator: string | undefined;
  readonly encryptionResponder: string | undefined;
  readonly integrityInitiator: string | undefined;
  readonly integrityResponder: string | undefined;
}

export interface DerivedKeys {
  /** In order of derivation. */
  readonly ike: readonly IkeSaKeys[];
  readonly child: readonly ChildSaKeys[];
  /** Every chunk dump in the log (nonces, IKEv1 SKEYID_*, AUTH octets, …), in order. */
  readonly dumps: readonly LogDump[];
}

const LINE = /^(\d+)\[(\w+)\] (?:<([^>]*)> )?(.*)$/;
const DUMP_HEADER = /^(.*?) => (\d+) bytes @ (?:0x[0-9a-fA-F]+|\(nil\))$/;
const DUMP_ROW = /^\s*(\d+): (.*)$/;
const CHECKIN = /^checkin IKEv[12] SA (.*)\[(\d+)\] with SPIs ([0-9a-f]{16})_i ([0-9a-f]{16})_r$/;
const CHILD_ESTABLISHED = /^(?:inbound |outbound )?CHILD_SA (.*)\{(\d+)\} established with SPIs ([0-9a-f]{8})_i ([0-9a-f]{8})_o and TS (.*) === (.*)$/;

const DH_LABEL = 'shared Diffie Hellman secret';
const IKE_LABELS: Readonly<Record<string, Exclude<keyof IkeKeyFields, 'sharedSecret'>>> = {
  SKEYSEED: 'SKEYSEED',
  'Sk_d secret': 'SK_d',
  'Sk_ai secret': 'SK_ai',
  'Sk_ar secret': 'SK_ar',
  'Sk_ei secret': 'SK_ei',
  'Sk_er secret': 'SK_er',
  'Sk_pi secret': 'SK_pi',
  'Sk_pr secret': 'SK_pr',
};
const CHILD_LABELS: Readonly<Record<string, keyof ChildKeyFields>> = {
  'encryption initiator key': 'encryptionInitiator',
  'encryption responder key': 'encryptionResponder',
  'integrity initiator key': 'integrityInitiator',
  'integrity responder key': 'integrityResponder',
};

type IkeKeyFields = Pick<IkeSaKeys, 'sharedSecret' | 'SKEYSEED' | 'SK_d' | 'SK_ai' | 'SK_ar' | 'SK_ei' | 'SK_er' | 'SK_pi' | 'SK_pr'>;
type ChildKeyFields = Pick<ChildSaKeys, 'encryptionInitiator' | 'encryptionResponder' | 'integrityInitiator' | 'integrityResponder'>;

interface PendingDump {
  label: string;
  size: number;
  bytes: string[];
  context: LogContext | undefined;
  line: number;
}
interface PendingIke {
  fields: Partial<Record<keyof IkeKeyFields, string>>;
  context: LogContext | undefined;
  line: number;
}
interface PendingChild {
  fields: Partial<Record<keyof ChildKeyFields, string>>;
  line: number;
}

export function parseContext(text: string | undefined): LogContext | undefined {
  if (text === undefined) return undefined;
  const m = /^(?:(.*)\|)?(\d+)$/.exec(text);
  if (!m) return undefined;
  return { name: m[1], uniqueId: Number(m[2]) };
}

/** Extracts every IKE and Child SA key set from a charon log, in order of appearance. */
export function parseDerivedKeys(log: string): DerivedKeys {
  const dumps: LogDump[] = [];
  const ike: IkeSaKeys[] = [];
  const child: ChildSaKeys[] = [];
  const dumpByThread = new Map<number, PendingDump>();
  const ikeByThread = new Map<number, PendingIke>();
  const childByThread = new Map<number, PendingChild>();
  const seenChildren = new Set<number>();
  // The DH secret is logged before SKEYSEED, and also for PFS Child SAs, which have no SKEYSEED:
  // remember the last one per thread and attach it only when an IKE key set starts.
  const dhByThread = new Map<number, string>();

  const finishIke = (pending: PendingIke, checkin?: { name: string; uniqueId: number; spiI: string; spiR: string }): void => {
    ike.push({
      name: checkin?.name,
      uniqueId: checkin?.uniqueId,
      spiI: checkin?.spiI,
      spiR: checkin?.spiR,
      context: pending.context,
      line: pending.line,
      sharedSecret: pending.fields.sharedSecret,
      SKEYSEED: pending.fields.SKEYSEED,
      SK_d: pending.fields.SK_d,
      SK_ai: pending.fields.SK_ai,
      SK_ar: pending.fields.SK_ar,
      SK_ei: pending.fields.SK_ei,
      SK_er: pending.fields.SK_er,
      SK_pi: pending.fields.SK_pi,
      SK_pr: pending.fields.SK_pr,
    });
  };

  const onDump = (dump: LogDump): void => {
    dumps.push(dump);
    if (dump.label === DH_LABEL) {
      dhByThread.set(dump.thread, dump.hex);
      return;
    }
    const ikeField = IKE_LABELS[dump.label];
    if (ikeField !== undefined) {
      let pending = ikeByThread.get(dump.thread);
      // A repeated field means a new derivation started before a checkin closed the last one.
      if (pending && pending.fields[ikeField] !== undefined) {
        finishIke(pending);
        pending = undefined;
      }
      if (!pending) {
        pending = { fields: {}, context: dump.context, line: dump.line };
        const dh = dhByThread.get(dump.thread);
        if (dh !== undefined) pending.fields.sharedSecret = dh;
        dhByThread.delete(dump.thread);
        ikeByThread.set(dump.thread, pending);
      }
      pending.fields[ikeField] = dump.hex;
      return;
    }
    const childField = CHILD_LABELS[dump.label];
    if (childField !== undefined) {
      let pending = childByThread.get(dump.thread);
      if (pending && pending.fields[childField] !== undefined) pending = undefined; // orphaned set: drop it
      if (!pending) {
        pending = { fields: {}, line: dump.line };
        childByThread.set(dump.thread, pending);
      }
      pending.fields[childField] = dump.hex;
    }
  };

  const lines = log.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = LINE.exec(lines[i] ?? '');
    if (!m) continue;
    const thread = Number(m[1]);
    const context = parseContext(m[3]);
    const message = m[4] ?? '';

    const open = dumpByThread.get(thread);
    if (open) {
      const row = DUMP_ROW.exec(message);
      if (row && Number(row[1]) === open.bytes.length) {
        const want = Math.min(16, open.size - open.bytes.length);
        const groups = new RegExp(`^((?:[0-9A-Fa-f]{2} ){${want}})`).exec(row[2] ?? '');
        if (groups) {
          open.bytes.push(...(groups[1] ?? '').trim().split(' '));
          if (open.bytes.length >= open.size) {
            dumpByThread.delete(thread);
            onDump({ label: open.label, hex: open.bytes.join('').toLowerCase(), thread, context: open.context, line: open.line });
          }
          continue;
        }
      }
      // A dump cut short (should not happen with flush_line): forget it rather than misassign bytes.
      dumpByThread.delete(thread);
    }

    const header = DUMP_HEADER.exec(message);
    if (header) {
      const size = Number(header[2]);
      const label = header[1] ?? '';
      if (size === 0) onDump({ label, hex: '', thread, context, line: i + 1 });
      else dumpByThread.set(thread, { label, size, bytes: [], context, line: i + 1 });
      continue;
    }

    const checkin = CHECKIN.exec(message);
    if (checkin) {
      const pending = ikeByThread.get(thread);
      if (pending) {
        ikeByThread.delete(thread);
        finishIke(pending, { name: checkin[1] ?? '', uniqueId: Number(checkin[2]), spiI: checkin[3] ?? '', spiR: checkin[4] ?? '' });
      }
      continue;
    }

    const established = CHILD_ESTABLISHED.exec(message);
    if (established) {
      const uniqueId = Number(established[2]);
      const pending = childByThread.get(thread);
      if (seenChildren.has(uniqueId)) continue; // the "outbound …" line of a rekeyed Child SA
      seenChildren.add(uniqueId);
      childByThread.delete(thread);
      child.push({
        name: established[1] ?? '',
        uniqueId,
        context,
        spiIn: established[3] ?? '',
        spiOut: established[4] ?? '',
        localTs: established[5] ?? '',
        remoteTs: established[6] ?? '',
        line: pending?.line ?? i + 1,
        encryptionInitiator: pending?.fields.encryptionInitiator,
        encryptionResponder: pending?.fields.encryptionResponder,
        integrityInitiator: pending?.fields.integrityInitiator,
        integrityResponder: pending?.fields.integrityResponder,
      });
    }
  }
  // Keys derived without a later checkin (e.g. the SA was destroyed after a failed IKE_AUTH).
  for (const pending of [...ikeByThread.values()].sort((x, y) => x.line - y.line)) finishIke(pending);
  ike.sort((x, y) => x.line - y.line);
  return { ike, child, dumps };
}
