/**
 * What the runner asks of a port an external server is to listen on: is something already there, is the server
 * ready yet, and which of its processes holds the listening socket (the one /proc watches, rather than the shell or
 * launcher the command started it through).
 */
import http from 'node:http';
import net from 'node:net';
import { TCP_LISTEN, parseNetTcp } from '../../../agents/proc/proc-parse.js';
import { readProcText } from '../../../agents/proc/proc-read.js';
import { readProcess, treePids } from '../../../agents/proc/tree-snapshot.js';

export const HOST = '127.0.0.1';

/** One probe waits this long for an answer: a server that is up answers a connect or a GET on loopback far sooner. */
const PROBE_TIMEOUT_MS = 1000;

/** Whether a connection to the port succeeds now. */
export function tcpAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Whether a GET of `path` gets an HTTP response now, whatever its status. */
export function httpAnswers(port: number, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: HOST, port, path, agent: false, timeout: PROBE_TIMEOUT_MS }, (res) => {
      res.resume();
      req.destroy();
      resolve(true);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
  });
}

/**
 * The process of the tree under `root` that holds a listening socket on `port`: the first in the tree's order, so a
 * prefork master rather than one of its workers (which hold the same socket); null when none of them does (the
 * server is elsewhere: in a container, or a daemon that left the tree).
 */
export function listenerPid(root: number, port: number): number | null {
  const processes = treePids(root).flatMap((pid) => readProcess(pid) ?? []);
  const held = new Set(processes.flatMap((p) => p.sockets ?? []));
  if (held.size === 0) return null;
  const listening = new Set<number>();
  for (const file of ['tcp', 'tcp6']) {
    const text = readProcText(`/proc/${root}/net/${file}`);
    if (text === null) continue;
    for (const e of parseNetTcp(text, held)) if (e.state === TCP_LISTEN && e.port === port) listening.add(e.inode);
  }
  return processes.find((p) => (p.sockets ?? []).some((inode) => listening.has(inode)))?.pid ?? null;
}
