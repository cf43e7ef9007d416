/**
 * The shell scripts the guest runs, in three steps:
 *
 * 1. `/init` in the initramfs (fixed at build time, busybox sh): loads the virtio and 9p
 *    modules, mounts the control share (a per-run directory of the host) and runs its boot.sh.
 * 2. `boot.sh` (written for each run): builds the root the command sees — the host's / over 9p,
 *    read-only, under a tmpfs overlay — mounts proc, sys, dev and /run in it, the kernel's full
 *    module tree and the read-write shares, routes module autoloading to the host's kmod, runs
 *    command.sh in it with chroot, records the status and powers off.
 * 3. `command.sh` (written for each run, run by the host's /bin/sh): the environment, the
 *    working directory, and exec of the command.
 *
 * Keeping step 2 out of the initramfs means a change to it needs no rebuild.
 *
 * Files in the control share: boot.sh, command.sh (host → guest); stdout, stderr, started,
 * finished, status, failure (guest → host). The console (kernel messages and these scripts'
 * log lines) goes to the serial port, which QEMU writes to console.log beside them.
 */
import { shellQuote } from './host.js';

export const CONTROL_TAG = 'ikekm-ctl';
export const HOST_ROOT_TAG = 'ikekm-root';
const NINEP = 'trans=virtio,version=9p2000.L,msize=512000';

/** The initramfs's /init. `/etc/modules` lists the module files (in /lib/modules) in load order. */
export function stage1Init(): string {
  return `#!/bin/busybox sh
# ikekm kernel VM, stage 1: reach the control share and hand over to its boot.sh.
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/null >/dev/console 2>&1
while read -r module; do
  insmod "/lib/modules/$module" || echo "ikekm-vm: insmod $module failed"
done < /etc/modules
mkdir -p /ctl
tries=0
until mount -t 9p -o ${NINEP},cache=none ${CONTROL_TAG} /ctl 2>/dev/null; do
  tries=$((tries + 1))
  if [ $tries -ge 100 ]; then echo "ikekm-vm: FATAL: cannot mount the control share"; poweroff -f; fi
  sleep 0.1
done
exec /bin/sh /ctl/boot.sh
`;
}

export interface BootParameters {
  readonly kernelVersion: string;
  /** Host path of the kernel's full /lib/modules/<version> tree. */
  readonly modulesDir: string;
  readonly hostname: string;
  /** Read-write 9p shares: QEMU mount tag and the host path, mounted at the same path. */
  readonly shares: ReadonlyArray<{ readonly tag: string; readonly path: string }>;
  /** Modules to load before the command (normally none: they autoload). */
  readonly preload: readonly string[];
}

/** The per-run boot.sh (busybox sh, PID 1). */
export function bootScript(p: BootParameters): string {
  const q = shellQuote;
  // Parents before children, so a share inside another one is mounted on top of it.
  const shares = [...p.shares].sort((x, y) => x.path.length - y.path.length);
  const mountShares = shares.map((s) => `mkdir -p "$R"${q(s.path)} && mount9p ${q(s.tag)} "$R"${q(s.path)} cache=mmap || fail ${q(`cannot mount ${s.path}`)}`);
  const unmountShares = [...shares].reverse().map((s) => `umount "$R"${q(s.path)} 2>/dev/null || umount -l "$R"${q(s.path)}`);
  return `# ikekm kernel VM, stage 2: written for this run by test/kernel-vm/run.ts.
log() { echo "ikekm-vm[$(cut -d' ' -f1 /proc/uptime)]: $*"; }
halt() { sync; poweroff -f; sleep 5; echo o > /proc/sysrq-trigger; }
fail() { log "FATAL: $*"; echo "$*" > /ctl/failure; halt; }
mount9p() { mount -t 9p -o "${NINEP},$3" "$1" "$2"; }
R=/newroot
KV=${q(p.kernelVersion)}
log "kernel $KV up"
mkdir -p /host /rw "$R"
mount9p ${HOST_ROOT_TAG} /host ro,cache=loose || fail "cannot mount the host root"
mount -t tmpfs -o mode=0755 tmpfs /rw && mkdir /rw/upper /rw/work || fail "cannot mount the overlay's tmpfs"
mount -t overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work overlay "$R" || fail "cannot mount the overlay"
mount -t proc proc "$R/proc" && mount -t sysfs sysfs "$R/sys" && mount -t devtmpfs devtmpfs "$R/dev" || fail "cannot mount proc, sys or dev"
mkdir -p "$R/dev/pts" "$R/dev/shm"
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts "$R/dev/pts"
mount -t tmpfs -o mode=1777 tmpfs "$R/dev/shm"
ln -sf /proc/self/fd "$R/dev/fd"
ln -sf /proc/self/fd/0 "$R/dev/stdin"; ln -sf /proc/self/fd/1 "$R/dev/stdout"; ln -sf /proc/self/fd/2 "$R/dev/stderr"
mount -t cgroup2 cgroup2 "$R/sys/fs/cgroup" 2>/dev/null
mount -t tmpfs -o mode=0755 tmpfs "$R/run" && mkdir -p "$R/run/lock" "$R/run/netns" || fail "cannot mount /run"
# The kernel's modules, and autoloading (esp4 on the first ESP state, xfrm_user on the first
# XFRM netlink socket, veth, ciphers…) through the host's kmod, which reads depmod's indexes.
mkdir -p "$R/lib/modules/$KV" && mount -o bind "$R"${q(p.modulesDir)} "$R/lib/modules/$KV" || fail "cannot bind the module tree"
chroot "$R" /usr/bin/test -x /sbin/modprobe || fail "the host has no /sbin/modprobe (apt-get install kmod)"
printf '#!/bin/sh\\nexec chroot /newroot /sbin/modprobe "$@"\\n' > /sbin/modprobe && chmod 755 /sbin/modprobe
echo /sbin/modprobe > /proc/sys/kernel/modprobe
# Device nodes whose first open loads their module (/dev/net/tun, /dev/ppp…).
while read -r module node spec; do
  case $module in '#'*|'') continue;; esac
  [ -e "$R/dev/$node" ] && continue
  mkdir -p "$(dirname "$R/dev/$node")"
  type=\${spec%%[0-9]*}; numbers=\${spec#?}
  mknod "$R/dev/$node" "$type" "\${numbers%:*}" "\${numbers#*:}"
done < "$R/lib/modules/$KV/modules.devname"
${mountShares.join('\n')}
for module in ${p.preload.map(q).join(' ')}; do /sbin/modprobe "$module" || log "modprobe $module failed"; done
hostname ${q(p.hostname)}
ip link set lo up
cp /ctl/command.sh "$R/run/ikekm-vm-command.sh" || fail "cannot copy command.sh"
log "running the command"
cut -d' ' -f1 /proc/uptime > /ctl/started
env -i chroot "$R" /bin/sh /run/ikekm-vm-command.sh </dev/null >/ctl/stdout 2>/ctl/stderr
status=$?
cut -d' ' -f1 /proc/uptime > /ctl/finished
log "the command exited with $status"
# Whatever the command left running (daemons in namespaces…) must not hold the shares.
kill -TERM -1 2>/dev/null && sleep 0.3 && kill -KILL -1 2>/dev/null
sync
${unmountShares.join('\n')}
echo $status > /ctl/status

halt
`;
}

/** The per-run command.sh: environment, working directory, exec. */
export function commandScript(argv: readonly string[], env: Readonly<Record<string, string>>, cwd: string): string {
  const exports = Object.entries(env)
    .filter(([name]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    .map(([name, value]) => `export ${name}=${shellQuote(value)}`);
  return [
    '# ikekm kernel VM: the command, written for this run by test/kernel-vm/run.ts',
    ...exports,
    `cd -- ${shellQuote(cwd)} || exit 125`,
    `exec ${argv.map(shellQuote).join(' ')}`,
    '',
  ].join('\n');
}
