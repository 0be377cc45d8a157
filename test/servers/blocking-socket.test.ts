/**
 * The blocking-socket addon on real sockets: the calls block the calling thread in the kernel, errors carry the
 * errno name, and shutdown(2) wakes a thread asleep in accept, which is how the blocking models stop.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { addonPath, blocking } from '../../src/servers/native.js';
import { waitUntil } from '../helpers/processes.js';

const api = blocking();

function threadState(tid: number): string {
  return readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8').split(') ')[1][0];
}

/** A worker that blocks in accept on `fd` after telling its tid; reports how accept ended. */
function acceptInWorker(fd: number): Worker {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const api = require(workerData.addon);
    parentPort.postMessage({ tid: api.gettid() });
    try { api.accept(workerData.fd); parentPort.postMessage({ accepted: true }); }
    catch (err) { parentPort.postMessage({ code: err.code }); }`;
  return new Worker(code, { eval: true, workerData: { fd, addon: addonPath() } });
}

describe('blocking socket addon', () => {
  it('carries bytes both ways, all of a send bigger than the socket buffers, and reads 0 at end of stream', async () => {
    const { fd: listenFd, port } = api.listen('127.0.0.1', 0, 8);
    const client = api.connect('127.0.0.1', port);
    // The connection is complete in the kernel's accept queue before anyone accepts it.
    const server = api.accept(listenFd);
    api.close(listenFd);

    api.sendAll(client, Buffer.from('ping'));
    const buf = Buffer.alloc(16, 0);
    expect(api.recv(server, buf, 2, 10)).toBe(4);
    expect(buf.subarray(0, 6).toString('latin1')).toBe('\0\0ping');

    // The reader counts until recv returns 0 (end of stream); sendAll must loop over partial sends meanwhile.
    const reader = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads'); const api = require(workerData.addon);
       const b = Buffer.alloc(65536); let total = 0, n;
       while ((n = api.recv(workerData.fd, b, 0, b.length)) > 0) total += n;
       api.close(workerData.fd);
       parentPort.postMessage(total);`,
      { eval: true, workerData: { fd: server, addon: addonPath() } },
    );
    const total = once(reader, 'message');
    const big = Buffer.alloc(3 * 1024 * 1024, 'y');
    api.sendAll(client, big);
    api.close(client);
    expect((await total)[0]).toBe(big.length);
  });

  it('throws errors with the errno name in code', () => {
    const { fd, port } = api.listen('127.0.0.1', 0, 8);
    api.close(fd);
    expect(() => api.connect('127.0.0.1', port)).toThrow(expect.objectContaining({ code: 'ECONNREFUSED' }));
    expect(() => api.recv(fd, Buffer.alloc(1), 0, 1)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(() => api.recv(0, Buffer.alloc(4), 2, 4)).toThrow(RangeError);
  });

  it('refuses a second listener on a bound port with EADDRINUSE', () => {
    const { fd, port } = api.listen('127.0.0.1', 0, 8);
    try {
      expect(() => api.listen('127.0.0.1', port, 8)).toThrow(expect.objectContaining({ code: 'EADDRINUSE' }));
    } finally {
      api.close(fd);
    }
  });

  it('sleeps in accept until shutdown wakes it with EINVAL', async () => {
    const { fd } = api.listen('127.0.0.1', 0, 8);
    const worker = acceptInWorker(fd);
    const messages: Record<string, unknown>[] = [];
    worker.on('message', (m) => messages.push(m));
    try {
      await waitUntil(() => messages.length > 0, 5000);
      const tid = messages[0].tid as number;
      expect(tid).not.toBe(process.pid);
      // Asleep in the kernel (S), not spinning (R).
      expect(await waitUntil(() => threadState(tid) === 'S', 5000)).toBe(true);
      expect(messages).toHaveLength(1);

      api.shutdown(fd);
      await once(worker, 'exit');
      expect(messages[1]).toEqual({ code: 'EINVAL' });
    } finally {
      api.close(fd);
    }
  });

  it('names threads: gettid is the pid on the main thread and another id in a worker', async () => {
    expect(api.gettid()).toBe(process.pid);
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       parentPort.postMessage([require(workerData.addon).gettid(), require('node:fs').readlinkSync('/proc/thread-self')]);`,
      { eval: true, workerData: { addon: addonPath() } },
    );
    const [[tid, link]] = await once(worker, 'message');
    expect(tid).not.toBe(process.pid);
    expect(link).toBe(`${process.pid}/task/${tid}`);
  });
});
