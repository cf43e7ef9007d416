/**
 * A netlink socket (linux/netlink.h) from Node, without a process per operation. It moves bytes;
 * what they mean is the XFRM codec's business (src/kernel/xfrm/).
 *
 * Requests are synchronous on purpose: the kernel handles a netlink request while the sender is
 * inside send(2) and queues its answer (the reply, the dump's first part, the ACK or the error)
 * before send returns, so the answer is read at once with MSG_DONTWAIT; a dump's further parts are
 * produced as they are read. No thread hop, no event-loop turn: the cost of a request is two
 * system calls. Multicast events (expires, acquires) come on their own socket, watched by poll(2)
 * on a worker thread, and are handed to the listener on the main thread.
 */
import { AF_NETLINK, EAGAIN, EINTR, MSG_DONTWAIT, POLLIN, SOCK_CLOEXEC, SOCK_RAW, libc } from './libc.js';

/** A failed system call on a netlink socket, with its errno (the caller maps it to a meaning). */
export class NetlinkSocketError extends Error {
  constructor(
    readonly call: string,
    readonly errno: number,
  ) {
    super(`netlink ${call} failed (errno ${errno})`);
    this.name = 'NetlinkSocketError';
  }
}

/** EBADF (asm-generic/errno-base.h): a request on a closed socket. */
const EBADF = 9;
/** How long to wait for an answer that was not there at once (it always is, for XFRM). */
const LATE_ANSWER_MS = 1_000;
/** Largest netlink datagram we read: a dump part is at most a page or two; this leaves room. */
const RECEIVE_BUFFER = 256 * 1024;
/** The event watcher looks at `closed` at least this often. */
const POLL_SLICE_MS = 250;

export class NetlinkSocket {
  private readonly buffer = Buffer.alloc(RECEIVE_BUFFER);
  private closed = false;

  private constructor(readonly fd: number) {}

  /** A socket for `protocol` (NETLINK_XFRM), joined to the multicast `groups` (a bitmask; 0: none). */
  static open(protocol: number, groups = 0): NetlinkSocket {
    const c = libc();
    const fd = c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
    if (fd < 0) throw new NetlinkSocketError('socket', c.errno());
    if (c.bindNetlink(fd, groups) < 0) {
      const errno = c.errno();
      c.close(fd);
      throw new NetlinkSocketError('bind', errno);
    }
    return new NetlinkSocket(fd);
  }

  /**
   * Sends `request` and reads datagrams until `complete(datagram)` says the answer is whole (the
   * ACK, the error, or NLMSG_DONE for the request's sequence number); returns them in order.
   */
  transact(request: Buffer, complete: (datagram: Buffer) => boolean): Buffer[] {
    if (this.closed) throw new NetlinkSocketError('send', EBADF);
    const c = libc();
    if (c.send(this.fd, request, 0) < 0) throw new NetlinkSocketError('send', c.errno());
    const received: Buffer[] = [];
    const deadline = Date.now() + LATE_ANSWER_MS;
    for (;;) {
      const n = c.recv(this.fd, this.buffer, MSG_DONTWAIT);
      if (n < 0) {
        const errno = c.errno();
        if ((errno === EAGAIN || errno === EINTR) && Date.now() < deadline) continue;
        throw new NetlinkSocketError('recv', errno);
      }
      const datagram = Buffer.from(this.buffer.subarray(0, n));
      received.push(datagram);
      if (complete(datagram)) return received;
    }
  }

  /**
   * Hands every datagram that arrives to `listener` (multicast events) until the socket is closed;
   * returns the function that stops listening. The listener runs on the main thread.
   */
  listen(listener: (datagram: Buffer) => void): () => void {
    let listening = true;
    const c = libc();
    const drain = (): void => {
      for (;;) {
        const n = c.recv(this.fd, this.buffer, MSG_DONTWAIT);
        if (n <= 0) return;
        listener(Buffer.from(this.buffer.subarray(0, n)));
      }
    };
    const watch = (): void => {
      if (!listening || this.closed) return;
      c.pollAsync(this.fd, POLLIN, POLL_SLICE_MS, (revents) => {
        if (!listening || this.closed) return;
        if (revents > 0) drain();
        watch();
      });
    };
    watch();
    return () => {
      listening = false;
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    libc().close(this.fd);
  }
}

