/**
 * The few libc calls the kernel backend needs that Node does not offer: a netlink socket
 * (AF_NETLINK, linux/netlink.h) and socket options on the UDP sockets ikekm already has
 * (UDP_ENCAP, IP_XFRM_POLICY). Called through koffi, which ships prebuilt binaries (nothing to
 * compile at install). Loaded on first use, so the memory backend never needs it.
 */
import koffi from 'koffi';

export const AF_NETLINK = 16;
export const SOCK_RAW = 3;
export const SOCK_CLOEXEC = 0o2000000;
/** linux/netlink.h */
export const NETLINK_XFRM = 6;
export const MSG_DONTWAIT = 0x40;
/** poll.h */
export const POLLIN = 0x1;
/** errno values the backend tells apart (asm-generic/errno-base.h, errno.h). */
export const EINTR = 4;
export const EAGAIN = 11;

export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  /** Binds a netlink socket: our port id (0: the kernel picks) and the multicast groups (bitmask). */
  bindNetlink(fd: number, groups: number): number;
  send(fd: number, bytes: Buffer, flags: number): number;
  recv(fd: number, into: Buffer, flags: number): number;
  close(fd: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer): number;
  /** poll(2) for one fd, on a worker thread; `done` gets the revents (0 on timeout) or -1 with the errno. */
  pollAsync(fd: number, events: number, timeoutMs: number, done: (revents: number, errno: number) => void): void;
  errno(): number;
}

let loaded: Libc | undefined;

export function libc(): Libc {
  loaded ??= load();
  return loaded;
}

function load(): Libc {
  const lib = koffi.load('libc.so.6');
  const SockaddrNl = koffi.struct('ikekm_sockaddr_nl', { nl_family: 'uint16', nl_pad: 'uint16', nl_pid: 'uint32', nl_groups: 'uint32' });
  koffi.struct('ikekm_pollfd', { fd: 'int', events: 'short', revents: 'short' });
  const socket = lib.func('int socket(int, int, int)');
  const bind = lib.func('int bind(int, const ikekm_sockaddr_nl *, uint32_t)');
  const send = lib.func('long send(int, const void *, size_t, int)');
  const recv = lib.func('long recv(int, _Out_ void *, size_t, int)');
  const close = lib.func('int close(int)');
  const setsockopt = lib.func('int setsockopt(int, int, int, const void *, uint32_t)');
  const poll = lib.func('int poll(_Inout_ ikekm_pollfd *, unsigned long, int)');
  return {
    socket: (domain, type, protocol) => socket(domain, type, protocol) as number,
    bindNetlink: (fd, groups) => bind(fd, { nl_family: AF_NETLINK, nl_pad: 0, nl_pid: 0, nl_groups: groups }, koffi.sizeof(SockaddrNl)) as number,
    send: (fd, bytes, flags) => Number(send(fd, bytes, bytes.length, flags)),
    recv: (fd, into, flags) => Number(recv(fd, into, into.length, flags)),
    close: (fd) => close(fd) as number,
    setsockopt: (fd, level, name, value) => setsockopt(fd, level, name, value, value.length) as number,
    pollAsync(fd, events, timeoutMs, done) {
      const entry = { fd, events, revents: 0 };
      // An error (EINTR, or EBADF once the socket is closed) reads as "nothing yet": the caller
      // looks again or stops.
      poll.async(entry, 1, timeoutMs, (err: unknown, result: number) => done(err !== null && err !== undefined ? -1 : result < 0 ? -1 : entry.revents, EINTR));
    },
    errno: () => koffi.errno(),
  };
}
