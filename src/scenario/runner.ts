/**
 * Runs one scenario: for each server, a backend tier, the server with the agent preloaded, and the generator, all
 * in their own processes; the collector and the frame assembler here; every frame streamed to the recording.
 * Every child is stopped on success, on error and on abort: nothing is left running.
 */
import { startCollector, type Collector } from '../collect/receiver.js';
import { FrameAssembler } from '../collect/frame-assembler.js';
import type { AgentInterval } from '../collect/otlp-json.js';
import { RECORDING_SCHEMA, monoMs, type Frame, type GeneratorInterval, type BackendInterval, type RunEnd, type RunStart } from '../model/index.js';
import { UserError } from '../errors.js';
import { RecordingWriter } from '../recording/writer.js';
import { MODEL_IDS } from '../servers/models.js';
import { ChildSet, type ManagedChild } from './children.js';
import { generatorConfig } from './generator-config.js';
import { watchServer, type ProcWatch } from './proc-watch.js';
import { hostFacts } from './host-facts.js';
import { ENTRY, toolVersion } from './paths.js';
import { phaseDurationS, serverWorkload, type Scenario } from './schema.js';


const READY_TIMEOUT_MS = 15_000;
/** After the last interval, how long to wait for the agent's export of it (it exports just after each boundary). */
const AGENT_GRACE_INTERVALS = 3;

export interface RunOptions {
  scenario: Scenario;
  scenarioFile: string | null;
  out: string;
  signal?: AbortSignal;
  onFrame?: (frame: Frame, run: RunStart) => void;
  onLog?: (line: string) => void;
}

export class RunAborted extends Error {
  readonly code = 'RUN_ABORTED';
}

export function scenarioSeconds(s: Scenario): number {
  return s.load.phases.reduce((t, p) => t + phaseDurationS(p), 0) * s.servers.length;
}

export async function runScenario(options: RunOptions): Promise<{ frames: number; runs: number }> {
  const { scenario, signal } = options;
  const log = options.onLog ?? (() => undefined);
  for (const s of scenario.servers) {
    // The schema knows every model of the lecture; only some have a reference server yet.
    if (!MODEL_IDS.includes(s.model)) {
      throw new UserError(`server '${s.name}': model '${s.model}' has no reference server yet (available: ${MODEL_IDS.join(', ')})`);
    }
  }
  const children = new ChildSet();
  const killOnExit = () => children.killAllNow();
  process.once('exit', killOnExit);
  const writer = RecordingWriter.open(options.out);
  let assembler: FrameAssembler | null = null;
  let collector: Collector | null = null;
  let frames = 0;
  let ok = false;
  try {
    writer.write({
      kind: 'header',
      schema: RECORDING_SCHEMA,
      tool: { name: 'srvlens', version: toolVersion() },
      created: new Date().toISOString(),
      scenario: { name: scenario.name, file: options.scenarioFile, description: scenario.description, config: scenario },
      host: await hostFacts(),
      interval_ms: scenario.interval_ms,
    });
    collector = await startCollector({
      intervalMs: scenario.interval_ms,
      onAgentIntervals: (list: AgentInterval[]) => assembler?.addAgents(list),
    });
    for (const [run, server] of scenario.servers.entries()) {
      if (signal?.aborted) throw new RunAborted('aborted');
      const workload = serverWorkload(scenario, server);
      const runStart: RunStart = {
        kind: 'run-start',
        run,
        server: server.name,
        model: server.model,
        size: server.size ?? {},
        workload,
        t_ms: monoMs(),
      };
      log(`run ${run + 1}/${scenario.servers.length}: ${server.name} (${server.model})`);
      assembler = new FrameAssembler(run, scenario.interval_ms, (frame) => {
        writer.write(frame);
        frames++;
        options.onFrame?.(frame, runStart);
      });
      let error: Error | null = null;
      let detected: RunEnd['detected'] = null;
      try {
        detected = await runOne({ options, children, collector, assembler, runStart, workload, policy: server.policy, started: () => writer.write(runStart) });
      } catch (err) {
        error = err as Error;
      }
      await children.stopAll();
      if (detected) log(`/proc sees ${server.name} as ${detected.model}: ${detected.evidence.slice(0, 2).join('; ')}`);
      writer.write({ kind: 'run-end', run, t_ms: monoMs(), ok: error === null, error: error ? error.message : null, detected });
      if (error) throw error;
    }
    ok = true;
    return { frames, runs: scenario.servers.length };
  } finally {
    await children.stopAll();
    process.off('exit', killOnExit);
    await collector?.close();
    writer.write({ kind: 'end', t_ms: monoMs(), ok });
    writer.close();
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

/** Starts the backend and the server (with the agent), then drives the load; returns what /proc named the model. */
async function startAndDrive(run: RunContext, abort: Promise<never>): Promise<RunEnd['detected']> {
  const { options, children, collector, assembler, runStart, workload, started } = run;
  const { scenario } = options;
  const intervalMs = scenario.interval_ms;

  const backend = children.fork('backend', ENTRY.backend, {
    env: { SRVLENS_BACKEND_CONFIG: JSON.stringify({ host: '127.0.0.1', port: 0, ...scenario.backend, intervalMs }) },
  });
  backend.on('interval', (m) => assembler.addBackend(m.index as number, m.data as BackendInterval));
  const backendReady = await Promise.race([backend.waitFor('ready', READY_TIMEOUT_MS), abort]);

  const server = children.fork(`server ${runStart.server}`, ENTRY.serve, {
    execArgv: ['--import', ENTRY.agent],
    env: {
      SRVLENS_SERVE_CONFIG: JSON.stringify({
        model: runStart.model,
        host: '127.0.0.1',
        port: 0,
        size: runStart.size,
        policy: run.policy,
        workload,
        backend: { host: '127.0.0.1', port: backendReady.port },
      }),
      SRVLENS_COLLECTOR_URL: collector.metricsUrl,
      SRVLENS_INTERVAL_MS: String(intervalMs),
      SRVLENS_SERVER_NAME: runStart.server,
      SRVLENS_MODEL: runStart.model,
      SRVLENS_ROLE: 'server',
    },
  });
  const serverReady = await Promise.race([server.waitFor('ready', READY_TIMEOUT_MS), abort]);
  started();
  // The /proc agent watches the server for the whole load: its accept queue, and which model it looks like.
  const watch = watchServer(serverReady.pid as number, intervalMs, (index, q) => assembler.addAcceptQueue(index, q));
  let seen: Awaited<ReturnType<ProcWatch['stop']>> = null;
  try {
    await driveLoad(options, children, assembler, serverReady.port as number, abort, server);
  } finally {
    seen = await watch.stop();
  }
  return seen ? { model: seen.finding.model, evidence: seen.finding.evidence } : null;
}

/** Runs the generator through every phase, then waits for the agents' last interval. */
async function driveLoad(
  options: RunOptions,
  children: ChildSet,
  assembler: FrameAssembler,
  port: number,
  abort: Promise<never>,
  server: ManagedChild,
): Promise<void> {
  const { scenario, signal } = options;
  const intervalMs = scenario.interval_ms;

  const generator = children.fork('generator', ENTRY.generator);
  generator.on('interval', (m) => assembler.addGenerator(m.index as number, m.data as GeneratorInterval));
  const load = scenario.load;
  generator.send({ type: 'start', config: generatorConfig(scenario, { host: '127.0.0.1', port }) });
  const budgetMs = (scenarioSeconds({ ...scenario, servers: [scenario.servers[0]] }) + 30) * 1000 + load.timeout_ms;
  const stop = () => generator.send({ type: 'stop' });
  signal?.addEventListener('abort', stop, { once: true });
  try {
    await Promise.race([generator.waitFor('done', budgetMs), abort]);
  } finally {
    signal?.removeEventListener('abort', stop);
  }

  // The agent exports each interval just after it ends: wait for the last one before stopping the server.
  const last = assembler.lastGeneratorIndex;
  const deadline = monoMs() + AGENT_GRACE_INTERVALS * intervalMs;
  while (!assembler.hasAgentData(last) && monoMs() < deadline && server.alive) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assembler.finish();
  if (!server.alive) throw new Error(`${server.name} died during the run${server.stderrTail ? `:\n${server.stderrTail.trim()}` : ''}`);
}
