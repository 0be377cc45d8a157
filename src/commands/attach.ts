import { type Command, InvalidArgumentError } from 'commander';
import { writeFileSync } from 'node:fs';
import { attachJson, renderAttachText, type KernelView } from '../../agents/proc/attach-report.js';
import { KernelTracerUnavailable, startKernelTracer, tracerBackendNote, type KernelTracer } from '../../agents/kernel/kernel-tracer.js';
import { detectModel } from '../analysis/detect-model.js';
import type { WindowSummary } from '../vocabulary/window-summary.js';
import { ProcessGoneError, sampleTree } from '../../agents/proc/sample-tree.js';
import { EXIT, UserError } from '../vocabulary/errors.js';
import { watchProc, type ProcWatch } from '../../agents/proc/proc-watch.js';
import type { LiveServersDashboard } from '../../dashboard/live-servers.js';
import type { Frame, RunStart } from '../vocabulary/index.js';
import type { FrameSink, FrameSource } from '../vocabulary/frame-source.js';
import { KERNEL_ENV, KERNEL_HELP, cannotWrite, intOption, kernelWanted } from './options.js';
import { trapStopSignals } from './stop-signals.js';

/**
 * Each sample reads the stat of every process on the host (to find new children): below this the sampler would be
 * a load of its own on a small machine.
 */
const MIN_SAMPLE_MS = 10;

/** The live view's interval: each one a frame, its figures and the model named again. */
const DASHBOARD_INTERVAL_MS = 1000;
/** The live view names the model from this much of the recent past: the summary's default window (--duration). */
const DETECT_WINDOW_MS = 5000;

interface AttachOptions {
  pid: number;
  duration: number;
  interval: number;
  out?: string;
  json?: boolean;
  quiet?: boolean;
  dashboard?: boolean;
  tui?: boolean;
  kernel: boolean;
}

/**
 * The kernel tracer over the tree, or why not (said once on stderr, and the figures go on from /proc alone). Started
 * before sampling: compiling and attaching its probes takes a second or more, and the window starts once it sees.
 */
async function startTracer(o: AttachOptions, say: (line: string) => void = (line) => process.stderr.write(`srvlens attach: ${line}\n`)): Promise<KernelTracer | string> {
  if (!kernelWanted(o.kernel)) return `the kernel tracer is off (--no-kernel or ${KERNEL_ENV}=off)`;
  const started = Date.now();
  try {
    // On the live view's grid, since its frames join /proc's there; the summary only adds them up.
    const tracer = await startKernelTracer({ pid: o.pid, intervalMs: DASHBOARD_INTERVAL_MS, requests: true });
    if (!o.quiet) say(`kernel tracer attached in ${((Date.now() - started) / 1000).toFixed(1)} s (${tracerBackendNote(tracer)})`);
    return tracer;
  } catch (err) {
    if (err instanceof ProcessGoneError) return 'the process is gone';
    if (!(err instanceof KernelTracerUnavailable)) throw err;
    say(`${err.message}; carrying on with /proc alone`);
    return err.message;
  }
}

/** How long a /proc frame waits for the kernel's of the same interval (printed a few ms after the boundary). */
const KERNEL_FRAME_WAIT_MS = 250;

/**
 * The /proc watch's frames with the kernel tracer's requests joined in, once one is added: each /proc frame waits
 * for the kernel's frame of its interval, up to KERNEL_FRAME_WAIT_MS, and goes out with or without it.
 */
function withKernel(proc: ProcWatch): FrameSource & { add(k: KernelTracer): void } {
  let sink: FrameSink = () => undefined;
  let kernel: KernelTracer | null = null;
  const fromKernel = new Map<number, Frame>();
  const waiting = new Map<number, { frame: Frame; timer: NodeJS.Timeout }>();
  const out = (f: Frame) => {
    const k = fromKernel.get(f.index);
    fromKernel.delete(f.index);
    for (const i of fromKernel.keys()) if (i < f.index) fromKernel.delete(i);
    sink(k ? { ...f, server: k.server, ...(k.accept_wait ? { accept_wait: k.accept_wait } : {}) } : f);
  };
  proc.pipe((f) => {
    if (kernel === null || fromKernel.has(f.index)) return out(f);
    waiting.set(f.index, { frame: f, timer: setTimeout(() => (waiting.delete(f.index), out(f)), KERNEL_FRAME_WAIT_MS) });
  });
  return {
    pipe: (s) => void (sink = s),
    add(k) {
      kernel = k;
      k.pipe((f) => {
        fromKernel.set(f.index, f);
        const w = waiting.get(f.index);
        if (!w) return;
        clearTimeout(w.timer);
        waiting.delete(f.index);
        out(w.frame);
      });
    },
  };
}

const noSuchProcess = (pid: number) => new UserError(`--pid ${pid}: no such process (is it running, and in this PID namespace? a container's PIDs are not the host's)`);

function secondsOption(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a number of seconds greater than 0, got '${value}'`);
  return n;
}

function intervalOption(value: string): number {
  const n = intOption(value);
  if (n < MIN_SAMPLE_MS) throw new InvalidArgumentError(`expected at least ${MIN_SAMPLE_MS} ms, got '${value}'`);
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
    .option('--dashboard', 'the live Run view instead, refreshed every second until q (--duration is not used)')
    .option('--tui', 'the same as --dashboard')
    .option('--no-kernel', `${KERNEL_HELP}: /proc alone, no request is seen`)
    .addHelpText(
      'after',
      '\nThe model is named from what the window shows; drive load (concurrent connections) while it samples, since an idle\nserver looks the same under most models and is reported as `unknown`.\n' +
        'With --dashboard, it is named again every second from the last 5 s. Requests, their latency and their parts are\nnot seen from /proc: run a Node app with the agent (`srvlens dashboard`) for those.',
    )
    .action(async (o: AttachOptions) => {
      if (o.dashboard || o.tui) {
        if (o.json || o.out !== undefined) throw new UserError('--dashboard shows the live view until q; --json and --out are for the summary of a window, without it');
        if (process.stdout.isTTY && process.stdin.isTTY) {
          process.exitCode = await attachDashboard(o);
          return;
        }
        const which = process.stdout.isTTY ? 'input' : 'output';
        process.stderr.write(`srvlens attach: --dashboard needs a terminal and standard ${which} is not one: sampling for ${o.duration} s and printing the summary instead\n`);
      }
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      const releaseSignals = trapStopSignals(onSignal);
      const durationMs = o.duration * 1000;
      let reported = 0;
      let seen: WindowSummary;
      let tracer: KernelTracer | string | undefined;
      let kernel: KernelView | undefined;
      try {
        tracer = await startTracer(o);
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
        if (err instanceof ProcessGoneError) throw noSuchProcess(o.pid);
        throw err;
      } finally {
        if (tracer !== undefined) kernel = typeof tracer === 'string' ? { unmeasured: tracer } : { requests: await tracer.stop() };
        releaseSignals();
      }
      const doc = attachJson(seen, detectModel(seen), kernel!);
      const json = JSON.stringify(doc, null, 2) + '\n';
      if (o.out !== undefined) {
        try {
          writeFileSync(o.out, json);
        } catch (err) {
          throw cannotWrite(o.out, err);
        }
      }
      process.stdout.write(o.json ? json : renderAttachText(doc));
      if (controller.signal.aborted) {
        process.stderr.write('srvlens attach: interrupted; the figures cover the time sampled until then\n');
        process.exitCode = EXIT.interrupted;
      }
    });
}

/** The live Run view over the tree's /proc frames (agents/proc/proc-watch.ts) until q; resolves with the exit code. */
async function attachDashboard(o: AttachOptions): Promise<number> {
  // Loaded only here: blessed costs startup time.
  const { startLiveServersDashboard } = await import('../../dashboard/live-servers.js');
  let view: LiveServersDashboard | undefined;
  let start: RunStart | undefined;
  let source: ProcWatch;
  let framed = false;
  try {
    // Sampling starts first, so that a wrong PID is said on a terminal not yet taken by the screen. No frame comes
    // before an interval is over: the view is there by then.
    source = watchProc({
      pid: o.pid,
      run: 0,
      intervalMs: DASHBOARD_INTERVAL_MS,
      samplesPerInterval: Math.max(1, Math.round(DASHBOARD_INTERVAL_MS / o.interval)),
      contexts: true,
      windowMs: DETECT_WINDOW_MS,
    });
  } catch (err) {
    if (err instanceof ProcessGoneError) throw noSuchProcess(o.pid);
    throw err;
  }
  const watched = source;
  const joined = withKernel(watched);
  joined.pipe((frame) => {
    // The first frame makes the note about waiting for it stale.
    if (!framed) view!.log('');
    framed = true;
    view!.frame(frame, start!);
    view!.detect(0, detectModel(watched.window()));
  });
  start = { kind: 'run-start', run: 0, server: `PID ${o.pid} (${source.name})`, model: 'naming it', size: {}, workload: {}, t_ms: 0 };
  view = startLiveServersDashboard(`attach, /proc of PID ${o.pid} and its descendants`, DASHBOARD_INTERVAL_MS);
  view.start(start);
  view.log('the first figures come once a whole interval is over');
  const shown = view;
  // The requests come once the kernel tracer has attached (a few seconds); /proc's figures do not wait for it.
  let tracer: KernelTracer | null = null;
  let stopping = false;
  const tracing = startTracer({ ...o, quiet: true }, (line) => shown.log(line)).then((t) => {
    if (typeof t === 'string') return;
    if (stopping) return void t.stop();
    tracer = t;
    joined.add(t);
    shown.log('kernel tracer attached: requests and their parts from the next interval on');
  });
  void source.done.then(({ ended }) => {
    if (!ended) return;
    shown.end(0, true, null);
    shown.log(`PID ${o.pid} ended: the figures stop there (q quits)`);
  });
  let signal: NodeJS.Signals | null = null;
  let wake = () => undefined as void;
  const signalled = new Promise<void>((resolve) => (wake = resolve));
  const onSignal = (sig: NodeJS.Signals) => {
    signal = sig;
    wake();
  };
  // Our own handlers: blessed's would exit 0 on SIGTERM (replay.ts).
  const releaseSignals = trapStopSignals(onSignal);
  try {
    await Promise.race([view.done, signalled]);
  } finally {
    releaseSignals();
    source.stop();
    view.close();
    // The terminal is the user's again at once; a tracer still attaching is stopped as soon as it has.
    stopping = true;
    await tracing;
    await (tracer as KernelTracer | null)?.stop();
  }
  return signal ? EXIT.interrupted : EXIT.ok;
}
