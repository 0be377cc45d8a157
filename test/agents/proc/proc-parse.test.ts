import { describe, expect, it } from 'vitest';
import { formatAddress, parseNetTcp, parseSchedstat, parseSsListen, parseStat, parseStatus, TCP_LISTEN } from '../../../agents/proc/proc-parse.js';

// Lines as this kernel (6.x) writes them, cut down to what matters.
const STAT = '4242 (my) server) R 4200 4242 4200 0 -1 4194560 2216 0 0 0 153 27 4 6 20 0 7 0 203390 745713664 10056 18446744073709551615 0';

describe('/proc parsers', () => {
  it('reads stat fields after a comm that holds spaces and a parenthesis', () => {
    expect(parseStat(STAT)).toEqual({
      pid: 4242,
      comm: 'my) server',
      state: 'R',
      ppid: 4200,
      utime: 153,
      stime: 27,
      cutime: 4,
      cstime: 6,
      threads: 7,
      starttime: 203390,
    });
    expect(parseStat('')).toBeNull();
    expect(parseStat('12 (x) S 1')).toBeNull();
  });

  it('reads a thread\'s context switches and the RSS from status', () => {
    const status = 'Name:\tnode\nState:\tS (sleeping)\nVmRSS:\t   10056 kB\nThreads:\t7\nvoluntary_ctxt_switches:\t1232\nnonvoluntary_ctxt_switches:\t2975\n';
    expect(parseStatus(status)).toEqual({ voluntary: 1232, involuntary: 2975, rss_bytes: 10056 * 1024 });
    // A zombie has no VmRSS: unknown, not zero.
    expect(parseStatus('Name:\tx\nvoluntary_ctxt_switches:\t1\nnonvoluntary_ctxt_switches:\t0\n')?.rss_bytes).toBeNull();
    expect(parseStatus('Name:\tx\n')).toBeNull();
  });

  it('reads schedstat', () => {
    expect(parseSchedstat('115481055 28579664 136\n')).toEqual({ oncpu_ns: 115481055, runqueue_ns: 28579664, timeslices: 136 });
    expect(parseSchedstat('')).toBeNull();
  });

  it('decodes /proc/net/tcp and tcp6 addresses, states and the accept queue, keeping only the asked inodes', () => {
    const tcp = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000005 00:00000000 00000000     0        0 61913 1 0000000000000000 100 0 0 10 0',
      '   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 61990 1 0000000000000000 20 4 30 10 -1',
      '   2: 0100007F:C351 0100007F:1F90 06 00000000:00000000 03:00000F8A 00000000     0        0 0 3 0000000000000000',
    ].join('\n');
    const entries = parseNetTcp(tcp, new Set([61913, 61990]));
    expect(entries).toEqual([
      { inode: 61913, local: '127.0.0.1:8080', port: 8080, remote: '0.0.0.0:0', state: TCP_LISTEN, rx_queue: 5 },
      { inode: 61990, local: '127.0.0.1:8080', port: 8080, remote: '127.0.0.1:50000', state: 1, rx_queue: 0 },
    ]);
    const tcp6 =
      '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n' +
      '   0: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000002 00:00000000 00000000     0        0 777 1 0000000000000000 100 0 0 10 0\n';
    expect(parseNetTcp(tcp6)).toEqual([{ inode: 777, local: '[::1]:80', port: 80, remote: '[::]:0', state: TCP_LISTEN, rx_queue: 2 }]);
  });

  it('writes addresses as ss does, whatever the byte order of the machine', () => {
    expect(formatAddress('0100007F', true)).toBe('127.0.0.1');
    expect(formatAddress('7F000001', false)).toBe('127.0.0.1');
    expect(formatAddress('00000000000000000000000000000000', true)).toBe('[::]');
    expect(formatAddress('0000000000000000FFFF00000100007F', true)).toBe('[::ffff:127.0.0.1]');
  });

  it('reads the backlog of listening sockets from ss -ltnHe, by inode', () => {
    const ss = [
      'LISTEN 0      511        127.0.0.1:32911      0.0.0.0:*    ino:61913 sk:1 cgroup:/ <->',
      'LISTEN 3      5          [::1]:8080           [::]:*       uid:1000 ino:61899 sk:2 cgroup:/ <->',
      'garbage',
    ].join('\n');
    expect([...parseSsListen(ss)]).toEqual([
      [61913, 511],
      [61899, 5],
    ]);
  });
});
