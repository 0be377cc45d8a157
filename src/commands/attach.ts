import { type Command, InvalidArgumentError } from 'commander';
import { writeFileSync } from 'node:fs';
import { attachJson, renderAttachText } from '../../agents/proc/attach-report.js';
import { detectModel } from '../../agents/proc/detect-model.js';
import type { WindowSummary } from '../../agents/proc/window-summary.js';
import { ProcessGoneError, sampleTree } from '../../agents/proc/sample-tree.js';
import { EXIT, UserError } from '../errors.js';
import { intOption } from './options.js';

/**
 * Each sample reads the stat of every process on the host (to find new children): below this the sampler would be
 * a load of its own on a small machine.
 */
const MIN_INTERVAL_MS = 10;

function secondsOption(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a number of seconds greater than 0, got '${value}'`);
  return n;
}

function intervalOption(value: string): number {
  const n = intOption(value);
  if (n < MIN_INTERVAL_MS) throw new InvalidArgumentError(`expected at least ${MIN_INTERVAL_MS} ms, got '${value}'`);
  return n;
}

export function registerAttach(program: Command): void {
  program
    .command('attach')
    .description('Watch a running server in any language from /proc (processes, threads, CPU, context switches, run-queue wait, accept queue) and name its concurrency model, with the evidence')
    .requiredOption('--pid <n>', 'the server process; its descendants and all their threads are followed', intOption)
    .option('--duration <s>', 'seconds to sample', secondsOption, 5)
    .option('--interval <ms>', 'milliseconds between samples', intervalOption, 200)
    .option('-o, --out <file>', 'also write the JSON to this file')
    .option('--json', 'print JSON instead of tables')
    .option('-q, --quiet', 'no progress lines')
    .addHelpText('after', '\nThe model is named from what the window shows; drive load (concurrent connections) while it samples, since an idle\nserver looks the same under most models and is reported as `unknown`.')
    .action(async (o: { pid: number; duration: number; interval: number; out?: string; json?: boolean; quiet?: boolean }) => {
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const durationMs = o.duration * 1000;
      let reported = 0;
      let seen: WindowSummary;
      try {
        seen = await sampleTree({
          pid: o.pid,
          durationMs,
          intervalMs: o.interval,
          signal: controller.signal,
          onSnapshot: (elapsed, snap) => {
            if (o.quiet || elapsed < reported + 1000) return;
            reported = Math.floor(elapsed / 1000) * 1000;
            const threads = snap.processes.reduce((s, p) => s + p.threads.length, 0);
            process.stderr.write(`srvlens attach: PID ${o.pid}: ${(elapsed / 1000).toFixed(0)}/${o.duration} s, ${snap.processes.length} processes, ${threads} threads\n`);
          },
        });
      } catch (err) {
        if (err instanceof ProcessGoneError) {
          throw new UserError(`--pid ${o.pid}: no such process (is it running, and in this PID namespace? a container's PIDs are not the host's)`);
        }
        throw err;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      const doc = attachJson(seen, detectModel(seen));
      const json = JSON.stringify(doc, null, 2) + '\n';
      if (o.out !== undefined) {
        try {
          writeFileSync(o.out, json);
        } catch (err) {
          throw new UserError(`--out ${o.out}: cannot write it (${(err as Error).message})`);
        }
      }
      process.stdout.write(o.json ? json : renderAttachText(doc));
      if (controller.signal.aborted) {
        process.stderr.write('srvlens attach: interrupted; the figures cover the time sampled until then\n');
        process.exitCode = EXIT.interrupted;
      }
    });
}
