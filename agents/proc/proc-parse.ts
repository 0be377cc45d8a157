/**
 * Parsers for the /proc and `ss` text the sampler reads. Pure: each takes a file's text and returns its fields (or
 * null when the text is not what the kernel writes), so tests feed them fixed strings. Formats: proc(5).
 */
import { endianness } from 'node:os';

export interface StatFields {
  pid: number;
  comm: string;
  /** R running, S sleeping, D uninterruptible (disk), Z zombie, T stopped, t traced, I idle kernel thread. */
  state: string;
  ppid: number;
  utime: number;
  stime: number;
  /** CPU of children that ended and were waited for (ticks): how a short-lived fork shows after it is gone. */
  cutime: number;
  cstime: number;
  threads: number;
  /** Ticks after boot when it started: with the id, names one context even if the id is reused later. */
  starttime: number;
}

/** /proc/PID/stat or /proc/PID/task/TID/stat. */
export function parseStat(text: string): StatFields | null {
  // comm sits in parentheses and may itself hold spaces and ')' (a thread may name itself anything): the last ')'
  // ends it, and every field after it is space-separated.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const f = text.slice(close + 2).trim().split(' ');
  // f[0] is field 3 (state), so field n of proc(5) is f[n - 3].
  const n = (field: number) => Number(f[field - 3]);
  if (f.length < 20 || !Number.isFinite(n(22))) return null;
  return {
    pid: Number(text.slice(0, open)),
    comm: text.slice(open + 1, close),
    state: f[0],
    ppid: n(4),
    utime: n(14),
    stime: n(15),
    cutime: n(16),
    cstime: n(17),
    threads: n(20),
    starttime: n(22),
  };
}

export interface StatusFields {
  voluntary: number;
  involuntary: number;
  /** null for a zombie or a kernel thread, which have no memory of their own. */
  rss_bytes: number | null;
}

/** /proc/PID/task/TID/status: this thread's context switches (the process-level file counts the main thread only). */
export function parseStatus(text: string): StatusFields | null {
  const value = (key: string) => {
    const m = new RegExp(`^${key}:\\s*(\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  };
  const voluntary = value('voluntary_ctxt_switches');
  const involuntary = value('nonvoluntary_ctxt_switches');
  if (voluntary === null || involuntary === null) return null;
  const rssKb = value('VmRSS');
  return { voluntary, involuntary, rss_bytes: rssKb === null ? null : rssKb * 1024 };
}

export interface Schedstat {
  oncpu_ns: number;
  runqueue_ns: number;
  timeslices: number;
}

/** /proc/PID/task/TID/schedstat: ns on a CPU, ns runnable but waiting for one, and timeslices run. */
export function parseSchedstat(text: string): Schedstat | null {
  const [a, b, c] = text.trim().split(' ').map(Number);
  if (![a, b, c].every(Number.isFinite)) return null;
  return { oncpu_ns: a, runqueue_ns: b, timeslices: c };
}

/** TCP state 0A in /proc/net/tcp: a listening socket. */
export const TCP_LISTEN = 0x0a;

export interface TcpEntry {
  inode: number;
  /** `127.0.0.1:8080`, `[::1]:8080`. */
  local: string;
  port: number;
  /** The peer's address, `0.0.0.0:0` for a listener. */
  remote: string;
  state: number;
  /** For a listening socket: connections completed by the kernel and not yet accepted (the accept queue). */
  rx_queue: number;
}

/**
 * /proc/PID/net/tcp or tcp6. Only entries whose inode is in `keep` are decoded: the file lists every socket of
 * the network namespace (a load generator's thousands of TIME_WAIT ones too), and the sampler wants the tree's.
 */
export function parseNetTcp(text: string, keep?: ReadonlySet<number>): TcpEntry[] {
  const out: TcpEntry[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i].trim().split(/\s+/);
    if (f.length < 10) continue;
    const inode = Number(f[9]);
    if (keep && !keep.has(inode)) continue;
    const [addrHex, portHex] = f[1].split(':');
    const [remoteHex, remotePortHex] = f[2].split(':');
    const port = parseInt(portHex, 16);
    out.push({
      inode,
      local: `${formatAddress(addrHex)}:${port}`,
      port,
      remote: `${formatAddress(remoteHex)}:${parseInt(remotePortHex, 16)}`,
      state: parseInt(f[3], 16),
      rx_queue: parseInt(f[4].split(':')[1], 16),
    });
  }
  return out;
}

/**
 * The kernel prints an address as 32-bit words in host byte order (`0100007F` is 127.0.0.1 on a little-endian
 * machine), so each word's bytes are reversed there.
 */
export function formatAddress(hex: string, littleEndian = endianness() === 'LE'): string {
  const bytes: number[] = [];
  for (let w = 0; w < hex.length; w += 8) {
    const word = [0, 2, 4, 6].map((i) => parseInt(hex.slice(w + i, w + i + 2), 16));
    bytes.push(...(littleEndian ? word.reverse() : word));
  }
  if (bytes.length === 4) return bytes.join('.');
  // An IPv4 client on a dual-stack socket: written the way `ss` and `netstat` write it.
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `[::ffff:${bytes.slice(12).join('.')}]`;
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  // The URL parser writes an IPv6 address in its canonical short form (`::1`, `::ffff:7f00:1`).
  return new URL(`http://[${groups.join(':')}]/`).hostname;
}

/**
 * `ss -ltnHe`: for a listening socket Send-Q is the backlog the server asked for (capped by somaxconn), which
 * /proc/net/tcp does not show. Returns inode -> backlog.
 */
export function parseSsListen(text: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    const inode = /\bino:(\d+)/.exec(line);
    if (f[0] !== 'LISTEN' || !inode) continue;
    const backlog = Number(f[2]);
    if (Number.isInteger(backlog)) out.set(Number(inode[1]), backlog);
  }
  return out;
}
