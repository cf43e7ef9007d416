/**
 * One request's answer on the XFRM request socket, gathered datagram by datagram: the reply, the
 * ACK, the error, or a dump's parts up to NLMSG_DONE. Messages of another sequence number (what
 * an earlier request left unread) are passed over. Pure: datagrams in, events or a KernelError out.
 */
import { KernelError } from './kernel-error.js';
import { NetlinkMessageType, decodeNetlinkMessages, decodeXfrmMessage, kernelErrorFromErrno, type XfrmEvent, type XfrmParseError } from './xfrm/index.js';

/** What ends the answer: an ACK (or error), one reply, or NLMSG_DONE after a dump's parts. */
export type XfrmAnswerKind = 'ack' | 'reply' | 'dump';

export class XfrmAnswer {
  private readonly events: XfrmEvent[] = [];
  private failure: KernelError | undefined;

  constructor(
    private readonly seq: number,
    private readonly kind: XfrmAnswerKind,
    /** The request in words, for the error ("listing XFRM policies"). */
    private readonly what: string,
  ) {}

  /**
   * Takes one datagram; true when the answer is whole. A dump is read to its NLMSG_DONE even past
   * a part that does not parse: left unread, the kernel would still be running it for this socket
   * and would refuse the socket's next dump with EBUSY (netlink_dump_start runs one at a time).
   */
  take(datagram: Buffer): boolean {
    const decoded = decodeNetlinkMessages(datagram);
    if (!decoded.ok) {
      this.unparsed(decoded.error);
      return this.kind !== 'dump';
    }
    let complete = false;
    for (const message of decoded.value) {
      if (message.seq !== this.seq) continue;
      const event = decodeXfrmMessage(message);
      if (!event.ok) {
        this.unparsed(event.error);
        if (this.kind === 'dump' && message.type !== NetlinkMessageType.ERROR) continue;
        return true;
      }
      const e = event.value;
      if (e.kind === 'error') {
        // The kernel's own word outranks a part we could not read.
        this.failure = kernelErrorFromErrno(e.error.errno, this.what, e.error.kernelMessage);
        complete = true;
      } else if (e.kind === 'ack' || e.kind === 'done' || this.kind === 'reply') {
        if (e.kind !== 'ack' && e.kind !== 'done') this.events.push(e);
        complete = true;
      } else {
        this.events.push(e);
      }
    }
    return complete;
  }

  /** The first failure so far: a socket error that follows it (a dump cut short) says less. */
  get failed(): KernelError | undefined {
    return this.failure;
  }

  /** The events of a whole answer; throws the kernel's error, or the first part that did not parse. */
  result(): XfrmEvent[] {
    if (this.failure !== undefined) throw this.failure;
    return this.events;
  }

  private unparsed(error: XfrmParseError): void {
    this.failure ??= new KernelError('failed', `${this.what}: the kernel's answer does not parse: ${error.message}`);
  }
}
