/**
 * One client of the control socket, with every way a client can hurt the daemon bounded:
 *
 * - Socket errors (EPIPE when the client left before its reply, ECONNRESET when it left without
 *   reading it) end this connection only. Nothing here may emit an unhandled 'error'.
 * - A request line may not grow past MAX_REQUEST_LINE bytes before its newline: the client gets
 *   an error line and is disconnected.
 * - Requests are answered one at a time, in order; reading stops while one runs or while its
 *   answers wait for the client to read them, so a client that pipelines thousands of lines
 *   starts one command at a time and cannot pile up answers.
 * - What waits to be written is bounded (`maxQueuedBytes`): once the socket's own buffer is full
 *   (socket.write returned false), lines queue here until 'drain'; a client whose queue passes the
 *   bound (a watcher that does not read) is dropped with a final line saying why.
 * - A client that sends nothing for `idleTimeoutMs` (and neither waits for an answer nor watches),
 *   or reads nothing for as long while output waits for it, is disconnected, so idle connections
 *   cannot hold the client slots.
 */
import type { Socket } from 'node:net';
import type { Observable, Subscription } from 'rxjs';
import { encodeRecordLine, isPublicRecordEntry, type PublicRecordEntry } from '../replay/record-entry.js';
import type { ControlHandler } from './control-handler.js';
import { MAX_REQUEST_LINE, parseControlRequest, type ControlReply, type ControlRequest } from './control-protocol.js';
import { LineSplitter } from './line-splitter.js';
import type { WarningThrottle } from './warning-throttle.js';

export interface ConnectionLimits {
  /** Characters queued for one client beyond the socket's own buffer before it is dropped. */
  readonly maxQueuedBytes: number;
  readonly idleTimeoutMs: number;
  /** How long a client being disconnected may take to read its final line. */
  readonly closeGraceMs: number;
}

export class ControlConnection {
  private readonly splitter = new LineSplitter(MAX_REQUEST_LINE);
  /** Complete request lines waiting for the one in progress. */
  private readonly requests: string[] = [];
  private busy = false;
  private inputEnded = false;
  /** Lines waiting for 'drain' (the socket's buffer is past its high-water mark). */
  private readonly output: string[] = [];
  private outputChars = 0;
  private blocked = false;
  private endWhenFlushed = false;
  private watch: Subscription | undefined;
  /** The id of the `watch` request: the final line of a dropped watcher carries it. */
  private watchId: number | undefined;
  private closing = false;

  constructor(
    private readonly socket: Socket,
    private readonly handler: ControlHandler,
    private readonly limits: ConnectionLimits,
    private readonly warnings: WarningThrottle,
  ) {
    // First, before anything can fail: a client that went away must not take the daemon with it.
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('end', () => this.endOfInput());
    socket.on('drain', () => this.flush());
    socket.on('close', () => this.release());
    socket.setTimeout(limits.idleTimeoutMs);
    socket.on('timeout', () => this.idle());
  }

  private receive(chunk: Buffer): void {
    if (this.closing) return;
    const result = this.splitter.push(chunk);
    for (const line of result.lines) if (line.trim() !== '') this.requests.push(line);
    if (!result.ok) {
      this.warnings.warn('line-too-long', { maxBytes: MAX_REQUEST_LINE }, 'control client sent a request line that is too long; disconnected');
      this.closeWithReason(null, `request line longer than ${MAX_REQUEST_LINE} bytes; closing the connection`, { stillSending: true });
      return;
    }
    this.next();
  }

  private endOfInput(): void {
    this.inputEnded = true;
    // readline answered a last line without a newline too (`printf '{…}' | nc -U`).
    const rest = this.splitter.rest();
    if (rest !== undefined && rest.trim() !== '' && !this.closing) this.requests.push(rest);
    this.next();
  }

  /**
   * Answers the waiting requests in order (a loop, not recursion: one chunk may hold thousands of
   * short lines) until one needs the daemon; then stops reading until it is answered.
   */
  private next(): void {
    while (!this.closing && !this.busy) {
      if (this.blocked) {
        // The client is not reading its answers yet: read no more requests until 'drain'.
        this.socket.pause();
        return;
      }
      const line = this.requests.shift();
      if (line === undefined) {
        if (this.inputEnded) {
          // The client closed its side: a watch ends with it (the stream has no reader left).
          this.watch?.unsubscribe();
          this.watch = undefined;
          this.endAfterOutput();
        } else {
          this.socket.resume();
        }
        return;
      }
      const parsed = parseControlRequest(line);
      if (!parsed.ok) {
        this.send({ id: parsed.id, ok: false, error: parsed.error } satisfies ControlReply);
        continue;
      }
      const request = parsed.request;
      if (request.cmd === 'watch') {
        if (request.journal === true) this.startJournalWatch(request.id, request.connection);
        else this.startWatch(request.id);
        continue;
      }
      this.busy = true;
      this.socket.pause();
      if (request.cmd === 'status' && this.handler.writeStatus !== undefined) {
        this.answerWithStatusText(request.id, this.handler.writeStatus.bind(this.handler));
        return;
      }
      this.dispatch(request).then(
        (result) => this.answer(request.id, { id: request.id, ok: true, result: result ?? null }),
        (error: unknown) => this.answer(request.id, { id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) }),
      );
    }
  }

  /**
   * The status reply written as the handler writes the status text: the same line as
   * `{"id","ok":true,"result":status}`. Its pieces are not held to `maxQueuedBytes` (the client
   * asked for all of it and reads it as one line). A failure before the first piece is an error
   * reply; after it, the line cannot be finished and the connection closes saying why.
   */
  private answerWithStatusText(id: number, writeStatus: (write: (text: string) => void) => Promise<void>): void {
    let started = false;
    const write = (text: string): void => {
      if (!started) {
        started = true;
        this.write(`{"id":${id},"ok":true,"result":`, { bounded: false });
      }
      this.write(text, { bounded: false });
    };
    writeStatus(write).then(
      () => {
        this.busy = false;
        if (started) this.write('}\n', { bounded: false });
        else this.send({ id, ok: true, result: null } satisfies ControlReply);
        this.next();
      },
      (error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        if (!started) return this.answer(id, { id, ok: false, error: reason });
        this.busy = false;
        this.closeWithReason(id, `the status could not be written: ${reason}`);
      },
    );
  }

  private answer(id: number, reply: ControlReply): void {
    this.busy = false;
    if (!this.send(reply)) this.send({ id, ok: false, error: 'the reply could not be encoded as JSON' } satisfies ControlReply);
    this.next();
  }

  private async dispatch(request: Exclude<ControlRequest, { cmd: 'watch' }>): Promise<unknown> {
    switch (request.cmd) {
      case 'up':
        return this.handler.up(request.name);
      case 'down':
        return this.handler.down(request.name);
      case 'rekey':
        return this.handler.rekey(request.name, { ike: request.ike === true });
      case 'reload':
        return this.handler.reload();
      case 'status':
        return this.handler.status();
      case 'record-start':
        return this.handler.recordStart(request.file, request.connection === undefined ? {} : { connection: request.connection });
      case 'record-stop':
        return this.handler.recordStop();
    }
  }

  /** `watch`: the daemon's events, each as `{"id":n,"event":…}`. */
  private startWatch(id: number): void {
    this.stream(id, true, 'event', () => this.handler.events$, (event) => {
      if (!this.send({ id, event })) this.warnings.warn('event-not-encoded', {}, 'control watch: an event could not be encoded as JSON; not sent');
    });
  }

  /**
   * `watch` with `journal`: the engine's journal (control-protocol.ts), each entry as its record
   * line inside `{"id":n,"entry":…}`. The handler hands over only public entries; a draw or a
   * load that came through all the same would not be sent.
   */
  private startJournalWatch(id: number, connection: string | undefined): void {
    const prefix = `{"id":${id},"entry":`;
    const journal = () => this.handler.journal$(connection === undefined ? {} : { connection });
    this.stream(id, 'journal', 'journal', journal, (entry: PublicRecordEntry) => {
      if (!isPublicRecordEntry(entry)) return;
      let line: string;
      try {
        line = `${prefix}${encodeRecordLine(entry)}}\n`;
      } catch {
        this.warnings.warn('entry-not-encoded', {}, 'control watch: a journal entry could not be encoded as JSON; not sent');
        return;
      }
      this.write(line);
    });
  }

  /**
   * Answers a watch request with `{"watching":watching}` (or why not: `source` may refuse by
   * throwing), then writes what `source` streams with `next`.
   */
  private stream<T>(id: number, watching: true | 'journal', what: string, source: () => Observable<T>, next: (value: T) => void): void {
    if (this.watch !== undefined) {
      this.send({ id, ok: false, error: 'this connection is already watching' } satisfies ControlReply);
      return;
    }
    let stream: Observable<T>;
    try {
      stream = source();
    } catch (error) {
      this.send({ id, ok: false, error: error instanceof Error ? error.message : String(error) } satisfies ControlReply);
      return;
    }
    this.send({ id, ok: true, result: { watching } } satisfies ControlReply);
    this.watchId = id;
    // A journal's current states come at once, inside subscribe(): enough of them to pass the
    // output bound close the connection before the subscription is even returned.
    const subscription = stream.subscribe({
      next,
      error: (error: unknown) => this.closeWithReason(id, `the ${what} stream failed: ${error instanceof Error ? error.message : String(error)}`),
      // The daemon is stopping: end the stream (after what is queued) so the client sees the end.
      complete: () => {
        this.watch = undefined;
        this.endAfterOutput();
      },
    });
    // It may have completed synchronously (a daemon already stopping), or the connection closed.
    if (this.closing) subscription.unsubscribe();
    else if (!subscription.closed) this.watch = subscription;
  }

  /** Queues one JSON line; false when `message` cannot be encoded (nothing sent). */
  private send(message: object): boolean {
    let line: string;
    try {
      line = `${JSON.stringify(message)}\n`;
    } catch {
      return false;
    }
    this.write(line);
    return true;
  }

  private write(line: string, options: { bounded: boolean } = { bounded: true }): void {
    if (this.closing || this.endWhenFlushed || this.socket.destroyed || !this.socket.writable) return;
    if (!this.blocked && this.output.length === 0) {
      this.blocked = !this.socket.write(line);
      return;
    }
    this.output.push(line);
    this.outputChars += line.length;
    if (options.bounded && this.outputChars > this.limits.maxQueuedBytes) {
      this.warnings.warn('client-not-reading', { queuedBytes: this.outputChars, maxQueuedBytes: this.limits.maxQueuedBytes }, 'control client does not read what it asked for; disconnected');
      this.closeWithReason(this.watchId ?? null, `not reading fast enough: more than ${this.limits.maxQueuedBytes} bytes waiting for this client; closing the connection`);
    }
  }

  private flush(): void {
    this.blocked = false;
    while (!this.blocked && this.output.length > 0 && !this.closing) {
      const line = this.output.shift() as string;
      this.outputChars -= line.length;
      this.blocked = !this.socket.write(line);
    }
    if (this.blocked || this.closing) return;
    if (this.endWhenFlushed) this.socket.end();
    else this.next();
  }

  private endAfterOutput(): void {
    if (this.closing) return;
    if (this.output.length === 0) this.socket.end();
    else this.endWhenFlushed = true;
  }

  /** The socket saw no traffic for `idleTimeoutMs`. */
  private idle(): void {
    if (this.closing || this.busy) return;
    // A watcher may wait for events as long as it likes, but not sit on unread ones.
    if (this.watch !== undefined && !this.blocked) return;
    const seconds = this.limits.idleTimeoutMs / 1000;
    this.closeWithReason(this.watchId ?? null, `${this.blocked ? `nothing read for ${seconds} s` : `no request for ${seconds} s`}; closing the connection`);
  }

  /**
   * Drops whatever is queued, writes one last `{"ok":false,"error":reason}` line and disconnects
   * once it is written, or after `closeGraceMs` if the client does not read it. A client that is
   * `stillSending` keeps the connection (unread, so its writes block) until it closes or the
   * grace ends: closed at once, its next write would fail and it might never read why.
   */
  private closeWithReason(id: number | null, reason: string, options: { stillSending?: boolean } = {}): void {
    if (this.closing) return;
    this.release();
    // Stop reading: a client streaming a huge line now fills its own socket buffer, not our heap.
    this.socket.pause();
    this.socket.removeAllListeners('data');
    if (this.socket.destroyed) return;
    if (options.stillSending !== true) this.socket.once('finish', () => this.socket.destroy());
    setTimeout(() => this.socket.destroy(), this.limits.closeGraceMs).unref();
    if (this.socket.writable) this.socket.end(`${JSON.stringify({ id, ok: false, error: reason } satisfies ControlReply)}\n`);
    else this.socket.destroy();
  }

  private release(): void {
    this.closing = true;
    this.watch?.unsubscribe();
    this.watch = undefined;
    this.requests.length = 0;
    this.output.length = 0;
    this.outputChars = 0;
  }
}
