/**
 * The backlog (the accept queue's limit) of listening sockets. /proc/net/tcp does not carry it (its tx_queue reads 0
 * for a listener); `ss` gets it over netlink and prints it as Send-Q. Sockets are matched by inode, unique across
 * network namespaces, so a socket `ss` cannot see (another namespace, no `ss` installed) is left out: unknown, not 0.
 */
import { execFileSync } from 'node:child_process';
import { parseSsListen } from './proc-parse.js';

export function readBacklogs(): Map<number, number> {
  try {
    const out = execFileSync('ss', ['-ltnHe'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
    return parseSsListen(out);
  } catch {
    return new Map();
  }
}
