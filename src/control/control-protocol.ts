/**
 * The control socket's protocol: JSON lines over a unix stream socket, one request per line.
 *
 *   → {"id":1,"cmd":"up","name":"to-hq"}
 *   ← {"id":1,"ok":true,"result":{…}}          or {"id":1,"ok":false,"error":"why"}
 *
 * `watch` answers once with `{"id":n,"ok":true,"result":{"watching":true}}`, then streams
 * `{"id":n,"event":{…}}` lines (SaEvents and daemon events) until the client closes.
 *
 * `{"id":n,"cmd":"watch","journal":true}` follows the engine's journal instead: it answers
 * `{"id":n,"ok":true,"result":{"watching":"journal"}}`, then streams `{"id":n,"entry":E}` lines,
 * where E is a record entry exactly as a line of a record file has it (src/replay/record-entry.ts,
 * encodeRecordLine: Buffers as `{"hex":"…"}`; decodeRecordLine(JSON.stringify(E)) gives it back).
 * First one `{"t":"state",…}` for every live IKE SA and Child SA actor (its current value), then
 * as they happen: `in` (each input: datagram, deliver, command, with its time), `out` (each
 * datagram sent), `state` (each actor's new state value). Never `draw` or `load`: the draws are
 * DH private values and nonces, which do not leave the daemon over a socket. The record's header
 * is not sent either. The same bounds as `watch` apply (a client that does not read is dropped
 * with a last ok:false line), and the stream ends when the daemon stops. With
 * `"connection":"NAME"`, only what concerns that connection's SAs: whole groups (an `in` and
 * what followed from it) that touch one of its SAs, or the whole engine (reload, stop); a
 * responder's new SA is held back until IKE_AUTH tells its connection (src/replay/journal-scope.ts).
 *
 * `{"id":n,"cmd":"record-start","file":"/abs/path.jsonl"}` (optionally `"connection":"NAME"`)
 * starts a record of the negotiations that begin from now on (src/daemon/mid-run-record.ts),
 * answering `{"file","startedAtMs","existingIkeSas"[,"connection"]}`; the daemon creates the file
 * 0600 (it holds key material). `{"id":n,"cmd":"record-stop"}` ends it and answers
 * `{"file","entries","bytes","keptGroups","leftOutGroups"[,"stopped"]}`. One such record at a time.
 *
 * The daemon ends a connection it will not serve further with one last ok:false line saying why:
 * `{"id":null,…}` for the connection itself (too many clients, a line over MAX_REQUEST_LINE,
 * idle), `{"id":n,…}` for a watch it drops (the client does not read its events).
 */
export type ControlRequest =
  | { readonly id: number; readonly cmd: 'up'; readonly name: string }
  | { readonly id: number; readonly cmd: 'down'; readonly name: string }
  | { readonly id: number; readonly cmd: 'rekey'; readonly name: string; readonly ike?: boolean }
  | { readonly id: number; readonly cmd: 'reload' }
  | { readonly id: number; readonly cmd: 'status' }
  | { readonly id: number; readonly cmd: 'watch'; readonly journal?: boolean; readonly connection?: string }
  | { readonly id: number; readonly cmd: 'record-start'; readonly file: string; readonly connection?: string }
  | { readonly id: number; readonly cmd: 'record-stop' };

export type ControlCommand = ControlRequest['cmd'];

export type ControlReply =
  | { readonly id: number | null; readonly ok: true; readonly result: unknown }
  | { readonly id: number | null; readonly ok: false; readonly error: string };

export interface ControlEventLine {
  readonly id: number;
  readonly event: unknown;
}

/** A line of a journal watch: `entry` is a record entry as JSON (Buffers as `{"hex":"…"}`). */
export interface ControlEntryLine {
  readonly id: number;
  readonly entry: unknown;
}

const COMMANDS: ReadonlySet<string> = new Set(['up', 'down', 'rekey', 'reload', 'status', 'watch', 'record-start', 'record-stop']);

/** Longest request line accepted: a request is a few dozen octets; anything larger is not ours. */
export const MAX_REQUEST_LINE = 64 * 1024;

/** Parses and checks one request line; the error says what is wrong (it goes back to the client). */
export function parseControlRequest(line: string): { ok: true; request: ControlRequest } | { ok: false; id: number | null; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { ok: false, id: null, error: `not JSON: ${(error as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, id: null, error: 'a request is a JSON object' };
  const record = value as Record<string, unknown>;
  const id = typeof record.id === 'number' && Number.isSafeInteger(record.id) ? record.id : null;
  if (id === null) return { ok: false, id: null, error: 'a request needs a numeric "id"' };
  const cmd = record.cmd;
  if (typeof cmd !== 'string' || !COMMANDS.has(cmd)) {
    return { ok: false, id, error: `unknown "cmd" ${JSON.stringify(cmd)}; known: ${[...COMMANDS].join(', ')}` };
  }
  if ((cmd === 'up' || cmd === 'down' || cmd === 'rekey') && (typeof record.name !== 'string' || record.name === '')) {
    return { ok: false, id, error: `"${cmd}" needs a connection "name"` };
  }
  if (cmd === 'rekey' && record.ike !== undefined && typeof record.ike !== 'boolean') return { ok: false, id, error: '"ike" must be true or false' };
  if (cmd === 'record-start' && (typeof record.file !== 'string' || record.file === '')) return { ok: false, id, error: '"record-start" needs a "file" (an absolute path)' };
  if (cmd === 'record-start' && record.connection !== undefined && (typeof record.connection !== 'string' || record.connection === '')) return { ok: false, id, error: '"connection" must be a connection name' };
  if (cmd === 'watch' && record.journal !== undefined && typeof record.journal !== 'boolean') return { ok: false, id, error: '"journal" must be true or false' };
  if (cmd === 'watch' && record.connection !== undefined && (record.journal !== true || typeof record.connection !== 'string' || record.connection === '')) {
    return { ok: false, id, error: '"connection" is a connection name, and goes with "journal":true' };
  }
  return { ok: true, request: record as unknown as ControlRequest };
}
