/**
 * The generator's own process, forked with IPC by the scenario runner (protocol in messages.ts). Load generation
 * gets a process of its own so that its CPU and event loop are not shared with the runner, the collector or the
 * dashboard, and its self-monitoring measures only itself.
 */
import { emptySummary, runGenerator } from './generate.js';
import { isToGenerator, type FromGenerator } from './messages.js';
import { isUserMistake } from '../vocabulary/errors.js';

function send(msg: FromGenerator, then?: () => void): void {
  // The callback runs once the message is handed to the channel: only then is it safe to exit.
  process.send!(msg, undefined, undefined, then);
}

if (!process.send) {
  process.stderr.write('srvlens generator: start it from the scenario runner (child_process.fork with an IPC channel), not directly.\n');
  process.exit(2);
}

const controller = new AbortController();
let started = false;

process.on('message', (msg: unknown) => {
  if (!isToGenerator(msg)) return;
  if (msg.type === 'stop') {
    if (started) controller.abort();
    else send({ type: 'done', summary: emptySummary(true) }, () => process.exit(0));
    return;
  }
  if (started) return;
  started = true;
  runGenerator(msg.config, (index, t_ms, data) => send({ type: 'interval', index, t_ms, data }), controller.signal).then(
    (summary) => send({ type: 'done', summary }, () => process.exit(0)),
    (err: Error & { code?: string }) =>
      send({ type: 'error', message: err.message, code: err.code ?? null, userMistake: isUserMistake(err) }, () => process.exit(1)),
  );
});

// Never outlive the parent: a runner that died or let go of us will not read another interval.
process.on('disconnect', () => process.exit(0));
