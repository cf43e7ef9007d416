/**
 * The control socket's protocol: JSON lines over a unix stream socket, one request per line.
 *
 *   → {"id":1,"cmd":"up","name":"to-hq"}
 *   ← {"id":1,"ok":true,"result":{…}}          or {"id":1,"ok":false,"error":"why"}
 *
 * `watch` answers once with `{"id":n,"ok":true,"result":{"watching":true}}`, then streams
 * `{"id":n,"event":{…}}` lines (SaEvents and daemon events) until the client closes.
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
  | { readonly id: number; readonly cmd: 'watch' };

export type ControlCommand = ControlRequest['cmd'];

export type ControlReply =
  | { readonly id: number | null; readonly ok: true; readonly result: unknown }
  | { readonly id: number | null; readonly ok: false; readonly error: string };

export interface ControlEventLine {
  readonly id: number;
  readonly event: unknown;
}

const COMMANDS: ReadonlySet<string> = new Set(['up', 'down', 'rekey', 'reload', 'status', 'watch']);

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
  return { ok: true, request: record as unknown as ControlRequest };
}
