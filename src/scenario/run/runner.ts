/**
 * Runs one scenario: for each server, a backend tier, the server with the agent preloaded, and the generator, all
 * in their own processes; the collector and the frame assembler here; every frame streamed to the recording. An
 * external server (a command, external-server.ts) takes the reference server's place, without the backend tier.
 * Every child is stopped on success, on error and on abort: nothing is left running.
 */
import { startCollector, type Collector } from '../../collect/receiver.js';
import { FrameAssembler } from '../../collect/frame-assembler.js';
import type { AgentInterval } from '../../collect/otlp-json.js';
import { RECORDING_SCHEMA, monoMs, namedWith, type Frame, type RecordingRecord, type RunEnd, type RunFailure, type RunStart } from '../../vocabulary/index.js';
import type { BackendConfig } from '../../servers/backend/backend-main.js';
import { BACKEND_CONFIG_ENV, SERVE_CONFIG_ENV, type BackendMessage, type ServeMessage } from '../../servers/child-entry.js';
import type { ServeConfig } from '../../servers/serve-main.js';
import { UserError } from '../../vocabulary/errors.js';
import type { FromGenerator, ToGenerator } from '../../load/messages.js';
import { RecordingWriter } from '../../recording/writer.js';
import { RecordingDiskFull } from '../../recording/errors.js';
import { watchProc, type ProcWatch } from '../../../agents/proc/proc-watch.js';
import { KernelTracerUnavailable, startKernelTracer, tracerBackendNote, type KernelTracer } from '../../../agents/kernel/kernel-tracer.js';
import { ProcessGoneError } from '../../../agents/proc/sample-tree.js';
import { detectModel } from '../../analysis/detect-model.js';
import { ChildSet, type ManagedChild } from '../children.js';
import { requireAddonFor } from '../../servers/models/registry.js';
import { externalServer, startExternal, type ExternalServer } from '../external/external-server.js';
import { generatorConfig } from './generator-config.js';
import { hostFacts } from './host-facts.js';
import { recordedScenario } from './recorded-scenario.js';
import { ENTRY, toolVersion } from '../../vocabulary/package-paths.js';
import { phaseDurationS, serverWorkload, type Scenario } from '../schema.js';


const READY_TIMEOUT_MS = 15_000;
/** After the last interval, how long to wait for the agent's export of it (it exports just after each boundary). */
const AGENT_GRACE_INTERVALS = 3;
/** /proc snapshots of the server this often (a few per interval): the TCP tables make them cost a few % of a core. */
const PROC_SAMPLE_MS = 250;

export interface RunOptions {
  scenario: Scenario;
  scenarioFile: string | null;
  out: string;
  signal?: AbortSignal;
  onFrame?: (frame: Frame, run: RunStart) => void;
  onLog?: (line: string) => void;
  /**
   * Trace each server from the kernel (agents/kernel/, root): the accept queue's wait for every server, and the
   * requests of one with no agent in it. Where it cannot run it is said once and the run goes on without it.
   */
  kernel?: boolean;
}

export class RunAborted extends Error {
  readonly code = 'RUN_ABORTED';
}

export function scenarioSeconds(s: Scenario): number {
  return s.load.phases.reduce((t, p) => t + phaseDurationS(p), 0) * s.servers.length;
}

/** A run ended because its server or its backend died: recorded in its run-end, and the scenario goes on. */
export class RunFailed extends Error {
  constructor(
    message: string,
    readonly failure: RunFailure,
  ) {
    super(message);
  }
}

/** `failed`: runs that ended with their server or backend dead (RunFailed), each marked in its run-end. */
export async function runScenario(given: RunOptions): Promise<{ frames: number; runs: number; failed: number }> {
  // A blocking model where the addon does not load: refused before the recording or any child exists.
  requireAddonFor(given.scenario.servers.map((s) => s.model));
  // The run stops on the caller's signal, or on its own when the recording's disk fills.
  const stopRun = new AbortController();
  const onGivenAbort = () => stopRun.abort();
  given.signal?.addEventListener('abort', onGivenAbort, { once: true });
  if (given.signal?.aborted) stopRun.abort();
  const options: RunOptions = { ...given, signal: stopRun.signal };
  const { scenario, signal } = options;
  const log = options.onLog ?? (() => undefined);
  const children = new ChildSet();
  const killOnExit = () => children.killAllNow();
  process.once('exit', killOnExit);
  const file = RecordingWriter.open(options.out);
  let diskFull: RecordingDiskFull | null = null;
  // Every record goes through here: a full disk stops the run (from a child's message too, where a throw would crash).
  const writer = {
    write(record: RecordingRecord): void {
      try {
        file.write(record);
      } catch (err) {
        if (!(err instanceof RecordingDiskFull)) throw err;
        diskFull = err;
        stopRun.abort();
      }
    },
  };
  let assembler: FrameAssembler | null = null;
  let collector: Collector | null = null;
  let frames = 0;
  let failed = 0;
  let ok = false;
  // Why the kernel tracer cannot run, once it has been said: the next servers go without it, silently.
  let kernelUnavailable: string | null = options.kernel ? null : 'off';
  try {
    writer.write({
      kind: 'header',
      schema: RECORDING_SCHEMA,
      tool: { name: 'srvlens', version: toolVersion() },
      created: new Date().toISOString(),
      scenario: { name: scenario.name, file: options.scenarioFile, description: scenario.description, config: recordedScenario(scenario) },
      host: await hostFacts(),
      interval_ms: scenario.interval_ms,
    });
    collector = await startCollector({
      intervalMs: scenario.interval_ms,
      onAgentIntervals: (list: AgentInterval[]) => assembler?.addAgents(list),
      onNotice: log,
    });
    for (const [run, server] of scenario.servers.entries()) {
      if (signal?.aborted) throw new RunAborted('aborted');
      const external = externalServer(server);
      // An external server runs its own code: the scenario's workload says nothing about it.
      const workload = external ? {} : serverWorkload(scenario, server);
      const runStart: RunStart = {
        kind: 'run-start',
        run,
        server: server.name,
        model: server.model,
        size: server.size ?? {},
        ...(server.cores !== undefined ? { cores: server.cores } : {}),
        workload,
        t_ms: monoMs(),
      };
      log(`run ${run + 1}/${scenario.servers.length}: ${server.name} (${external ? `external, agent ${external.agent}` : server.model})`);
      assembler = new FrameAssembler(run, scenario.interval_ms);
      assembler.pipe((frame) => {
        writer.write(frame);
        frames++;
        options.onFrame?.(frame, runStart);
      });
      let error: Error | null = null;
      let detected: RunEnd['detected'] = null;
      try {
        detected = await runOne({
          options,
          children,
          collector,
          assembler,
          runStart,
          workload,
          policy: server.policy,
          external,
          started: () => writer.write(runStart),
          log,
          kernel: () => kernelUnavailable === null,
          kernelUnavailable: (why) => {
            kernelUnavailable = why;
            log(`${why}; the runs go on without it`);
          },
        });
      } catch (err) {
        error = err as Error;
      }
      await children.stopAll();
      if (detected) log(`/proc sees ${server.name} as ${namedWith(detected)}: ${detected.evidence.slice(0, 2).join('; ')}`);
      const failure = error instanceof RunFailed ? error.failure : null;
      writer.write({ kind: 'run-end', run, t_ms: monoMs(), ok: error === null, error: error ? error.message : null, detected, ...(failure ? { failure } : {}) });
      if (failure) {
        failed++;
        log(`${error!.message}; going on with the next server`);
      } else if (error) throw error;
    }
    ok = failed === 0;
    return { frames, runs: scenario.servers.length, failed };
  } catch (err) {
    throw diskFull ?? err;
  } finally {
    given.signal?.removeEventListener('abort', onGivenAbort);
    await children.stopAll();
    process.off('exit', killOnExit);
    await collector?.close();
    writer.write({ kind: 'end', t_ms: monoMs(), ok });
    file.close();
  }
}

/** Everything one server's run works with. */
interface RunContext {
  options: RunOptions;
  children: ChildSet;
  collector: Collector;
  assembler: FrameAssembler;
  runStart: RunStart;
  workload: Record<string, unknown>;
  /** Called once the server is ready: the run-start record goes out then. */
  started: () => void;
  /** The model's scheduling policy, where it has a choice (event-loop-per-core). */
  policy?: string;
  /** Set when the server is started from a command rather than run from a model. */
  external: ExternalServer | null;
  log: (line: string) => void;
  /** Whether to trace this server from the kernel, and where to say once that it cannot be done. */
  kernel: () => boolean;
  kernelUnavailable: (why: string) => void;
}

/** A server started and ready for load. */
interface ReadyServer {
  /** The child whose exit means the server is gone (for an external server, its keeper). */
  child: ManagedChild<ServeMessage> | ManagedChild;
  /** The process /proc watches. */
  pid: number;
  port: number;
  /** The backend tier's process (reference servers only). */
  backend: ManagedChild<BackendMessage> | null;
}

async function runOne(run: RunContext): Promise<RunEnd['detected']> {
  const { signal } = run.options;
  let onAbort = () => undefined as void;
  const abort = new Promise<never>((_, reject) => {
    onAbort = () => reject(new RunAborted('aborted'));
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  abort.catch(() => undefined);
  try {
    return await startAndDrive(run, abort);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Starts the server, then drives the load; returns what /proc named the model. */
async function startAndDrive(run: RunContext, abort: Promise<never>): Promise<RunEnd['detected']> {
  const { children, assembler, started, external } = run;
  const server = external ? await startExternalServer(run, external, abort) : await startReferenceServer(run, abort);
  started();
  const watch = watchServer(run, server.pid);
  let tracer: KernelTracer | null = null;
  try {
    tracer = await traceKernel(run, server.pid);
    await driveLoad(run, children, assembler, server, abort, watch, tracer);
  } finally {
    watch?.stop();
    const k = await tracer?.stop();
    if (k && k.lost_prints > 0) run.log(`kernel tracer: bpftrace lost ${k.lost_prints} of its prints, so ${k.intervals_lost} intervals have no kernel figures`);
  }
  if (!watch) return null;
  const finding = detectModel(watch.window());
  return { model: finding.model, confidence: finding.confidence, evidence: finding.evidence };
}

/**
 * The /proc agent on the server for the whole load, its frames joined into the run's: its accept queue, and for a
 * server without the agent its threads (what it costs per interval). At the end, the model it looks like. null when
 * the server is already gone (the load then fails on its own).
 */
function watchServer(run: RunContext, pid: number): ProcWatch | null {
  const intervalMs = run.options.scenario.interval_ms;
  try {
    const watch = watchProc({
      pid,
      run: run.runStart.run,
      intervalMs,
      samplesPerInterval: Math.max(1, Math.round(intervalMs / PROC_SAMPLE_MS)),
      contexts: run.external?.agent === 'none',
      windowMs: Infinity,
    });
    run.assembler.include(watch);
    return watch;
  } catch (err) {
    if (err instanceof ProcessGoneError) return null;
    throw err;
  }
}

/**
 * The kernel tracer on the server, its frames joined into the run's, before any load (attaching takes a few
 * seconds): null when it is not to run or cannot (said once for the scenario), or the server is already gone.
 */
async function traceKernel(run: RunContext, pid: number): Promise<KernelTracer | null> {
  if (!run.kernel()) return null;
  const started = monoMs();
  try {
    const tracer = await startKernelTracer({ pid, intervalMs: run.options.scenario.interval_ms, run: run.runStart.run, requests: run.external?.agent === 'none' });
    run.log(`kernel tracer attached to ${run.runStart.server} in ${((monoMs() - started) / 1000).toFixed(1)} s (${tracerBackendNote(tracer)})`);
    run.assembler.include(tracer);
    return tracer;
  } catch (err) {
    if (err instanceof ProcessGoneError) return null;
    if (!(err instanceof KernelTracerUnavailable)) throw err;
    run.kernelUnavailable(err.message);
    return null;
  }
}

/** What the agent in a server process needs to report to this run's collector. */
function agentEnv(run: RunContext): Record<string, string> {
  return {
    SRVLENS_COLLECTOR_URL: run.collector.metricsUrl,
    SRVLENS_INTERVAL_MS: String(run.options.scenario.interval_ms),
    SRVLENS_SERVER_NAME: run.runStart.server,
    SRVLENS_MODEL: run.runStart.model,
    SRVLENS_ROLE: 'server',
  };
}

/** The backend tier, then the reference server with the agent preloaded. */
async function startReferenceServer(run: RunContext, abort: Promise<never>): Promise<ReadyServer> {
  const { options, children, assembler, runStart, workload } = run;
  const { scenario } = options;
  const intervalMs = scenario.interval_ms;

  const backend = children.fork<BackendMessage>('backend', ENTRY.backend, {
    env: { [BACKEND_CONFIG_ENV]: JSON.stringify({ host: '127.0.0.1', port: 0, ...scenario.backend, intervalMs } satisfies BackendConfig) },
  });
  backend.on('interval', (m) => assembler.addBackend(m.index, m.data));
  const backendReady = await Promise.race([backend.waitFor('ready', READY_TIMEOUT_MS), abort]);

  const server = children.fork<ServeMessage>(`server ${runStart.server}`, ENTRY.serve, {
    execArgv: ['--import', ENTRY.agent],
    env: {
      [SERVE_CONFIG_ENV]: JSON.stringify({
        model: runStart.model,
        host: '127.0.0.1',
        port: 0,
        size: runStart.size,
        cores: runStart.cores,
        policy: run.policy,
        workload,
        backend: { host: '127.0.0.1', port: backendReady.port },
      } satisfies ServeConfig),
      ...agentEnv(run),
    },
  });
  const serverReady = await Promise.race([server.waitFor('ready', READY_TIMEOUT_MS), abort]);
  return { child: server, pid: serverReady.pid, port: serverReady.port, backend };
}

/** The server's command, with the agent preloaded when it is a Node app that asked for it; no backend tier. */
async function startExternalServer(run: RunContext, external: ExternalServer, abort: Promise<never>): Promise<ReadyServer> {
  const started = await startExternal(external, run.children, external.agent === 'node' ? agentEnv(run) : null, abort);
  if (started.note) run.log(started.note);
  return { child: started.keeper, pid: started.pid, port: external.port, backend: null };
}

/** Runs the generator through every phase, then waits for the agents' (or /proc's) last interval. */
async function driveLoad(
  run: RunContext,
  children: ChildSet,
  assembler: FrameAssembler,
  server: ReadyServer,
  abort: Promise<never>,
  watch: ProcWatch | null,
  tracer: KernelTracer | null,
): Promise<void> {
  const { options, external } = run;
  const { scenario, signal } = options;
  const intervalMs = scenario.interval_ms;

  const generator = children.fork<FromGenerator, ToGenerator>('generator', ENTRY.generator);
  generator.on('interval', (m) => assembler.addGenerator(m.index, m.data));
  // It says why before it exits 1; that, not the bare exit, is what the user is told.
  let failure: Error | null = null;
  generator.on('error', (m) => {
    const message = `${options.scenarioFile ?? 'scenario'}: the load generator cannot run it: ${m.message}`;
    failure = m.userMistake ? new UserError(message, m.code ?? undefined) : new Error(message);
  });
  const load = scenario.load;
  generator.send({ type: 'start', config: generatorConfig(external ? withoutWorkloads(scenario) : scenario, { host: '127.0.0.1', port: server.port }) });
  const budgetMs = (scenarioSeconds({ ...scenario, servers: [scenario.servers[0]] }) + 30) * 1000 + load.timeout_ms;
  const stop = () => generator.send({ type: 'stop' });
  signal?.addEventListener('abort', stop, { once: true });
  // A server or backend that dies stops the load at once: the rest of the phases would only count its absence.
  const death = watchDeaths(server, external !== null, stop);
  try {
    await Promise.race([generator.waitFor('done', budgetMs).catch((err: Error) => Promise.reject(failure ?? err)), abort]);
  } finally {
    signal?.removeEventListener('abort', stop);
  }

  // The agent exports each interval just after it ends: wait for the last one before stopping the server. Without
  // an agent, wait for /proc's frame of it instead (out at the first snapshot after it), and the kernel's.
  const last = assembler.lastGeneratorIndex;
  const lastIn =
    external?.agent === 'none'
      ? () => (watch?.lastIndex ?? Infinity) >= last && (tracer?.lastIndex ?? Infinity) >= last
      : () => assembler.hasAgentData(last);
  const deadline = monoMs() + AGENT_GRACE_INTERVALS * intervalMs;
  const child = server.child;
  while (!lastIn() && monoMs() < deadline && child.alive && death.failure === null) {
    await new Promise((r) => setTimeout(r, 20));
  }
  death.over();
  assembler.finish();
  const dead = death.failure ?? (child.alive ? null : failureOf('server', child, child.proc.exitCode, child.proc.signalCode));
  if (dead) throw new RunFailed(failureMessage(run.runStart.server, dead), dead);
}

/** STDERR lines a failure keeps: enough for a stack's head, short enough for a report. */
const FAILURE_STDERR_LINES = 20;

function failureOf(who: RunFailure['who'], child: Pick<ManagedChild, 'stderrLines'>, code: number | null, signal: string | null): RunFailure {
  return { who, exit_code: code, signal, stderr_tail: child.stderrLines(FAILURE_STDERR_LINES), t_ms: monoMs() };
}

function failureMessage(server: string, f: RunFailure): string {
  const status = f.signal ? `signal ${f.signal}` : `exit code ${f.exit_code}`;
  const tail = f.stderr_tail ? `; its stderr ended:\n${f.stderr_tail}` : '; it wrote nothing to stderr';
  return f.who === 'server'
    ? `server ${server} died during its run (${status})${tail}`
    : `the backend tier of ${server}'s run died (${status}): the errors after it are the backend's, not ${server}'s${tail}`;
}

/**
 * Watches the server and its backend until `over()`: the first to die is the run's failure, and `onDeath` stops
 * the load. An external server's status is its command's, which its keeper reports before it goes itself.
 */
function watchDeaths(server: ReadyServer, external: boolean, onDeath: () => void): { readonly failure: RunFailure | null; over(): void } {
  let failure: RunFailure | null = null;
  let over = false;
  const died = (who: RunFailure['who'], child: Pick<ManagedChild, 'stderrLines'>) => (code: number | null, signal: string | null) => {
    if (over || failure) return;
    failure = failureOf(who, child, code, signal);
    onDeath();
  };
  if (external) {
    const onServer = died('server', server.child);
    (server.child as ManagedChild).on('exited', (m) => onServer(m.code as number | null, m.signal as string | null));
  } else server.child.proc.once('exit', died('server', server.child));
  server.backend?.proc.once('exit', died('backend', server.backend));
  return {
    get failure() {
      return failure;
    },
    over: () => void (over = true),
  };
}

/**
 * The scenario as the generator sees it for an external server: the mix's paths as given, without the workload
 * query strings that only the reference servers read.
 */
function withoutWorkloads(scenario: Scenario): Scenario {
  const mix = scenario.load.mix?.map((m) => ({ ...m, workload: {} }));
  return { ...scenario, load: { ...scenario.load, ...(mix ? { mix } : {}) } };
}
