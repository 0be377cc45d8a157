/**
 * `srvlens dashboard`: the collector (on loopback unless --host and a token say otherwise), and the live dashboard
 * over whatever agents send to it. Each service (service.name) is a server; frames are made on the interval clock,
 * since no generator paces them (collect/service-runs.ts). Without a terminal, a line per server and interval (or
 * the records as JSON lines).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { startCollector, type Collector } from '../collect/receiver.js';
import { startIntervalClock, type IntervalClock } from '../collect/interval-clock.js';
import { ServiceRuns } from '../collect/service-runs.js';
import { RECORDING_SCHEMA, monoMs, monoToEpochMs, type Frame, type RecordingRecord, type RunEnd, type RunStart } from '../vocabulary/index.js';
import { RecordingWriter } from '../recording/writer.js';
import { RecordingDiskFull } from '../recording/errors.js';
import { hostFacts } from '../scenario/run/host-facts.js';
import { toolVersion } from '../vocabulary/package-paths.js';
import { EXIT, UserError } from '../vocabulary/errors.js';
import { DEFAULT_INTERVAL_MS, MAX_INTERVAL_MS, MIN_INTERVAL_MS } from '../vocabulary/intervals.js';
import { serverStats } from '../analysis/server-stats.js';
import { cannotWrite, intOption } from './options.js';
import { trapStopSignals } from './stop-signals.js';
import { TOKEN_ENV, tokenFrom } from '../vocabulary/exposure.js';

/** Ticks this long after each boundary: agents export a few ms after it, and the frames wait LAG intervals anyway. */
const TICK_GRACE_MS = 50;

interface Options {
  port: number;
  host: string;
  intervalMs: number;
  out?: string;
  json?: boolean;
  token?: string;
}

function intervalOption(value: string): number {
  const n = intOption(value);
  if (n < MIN_INTERVAL_MS || n > MAX_INTERVAL_MS) throw new InvalidArgumentError(`expected ${MIN_INTERVAL_MS} to ${MAX_INTERVAL_MS} ms (what the agent takes), got '${value}'`);
  return n;
}

/** Where frames and news go: the live dashboard, or lines on standard output. */
interface Sink {
  start(run: RunStart): void;
  frame(frame: Frame, run: RunStart): void;
  end(end: RunEnd, run: RunStart): void;
  log(line: string): void;
  close(): void;
}

export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description('Listen for agents (srvlens\'s, or any OpenTelemetry SDK over OTLP/HTTP; on loopback unless --host and a token say otherwise) and show what they measure, live: each service is a server')
    .option('--port <n>', 'port to listen on (0: any free one, printed)', intOption, 4318)
    .option('--host <address>', 'address to listen on; beyond loopback (127.0.0.0/8, ::1, localhost) only with a token', '127.0.0.1')
    .option('--token <token>', `every OTLP export must carry Authorization: Bearer TOKEN (default: ${TOKEN_ENV}); needed for a --host beyond loopback`)
    .option('--interval-ms <ms>', 'interval length; agents must use the same (SRVLENS_INTERVAL_MS)', intervalOption, DEFAULT_INTERVAL_MS)
    .option('-o, --out <file>', 'also record the frames, for `srvlens replay` and `srvlens report`')
    .option('--json', 'no dashboard: print each run-start, frame and run-end as a line of JSON')
    .addHelpText(
      'after',
      [
        '',
        'Start your apps with the agent, pointed here:',
        '  SRVLENS_COLLECTOR_URL=http://127.0.0.1:4318/v1/metrics SRVLENS_SERVER_NAME=api node --import srvlens/agent app.js',
        'or export OTLP/HTTP (JSON or protobuf) from any OpenTelemetry SDK to http://127.0.0.1:4318 (service.name names the server).',
        `With a token (--token or ${TOKEN_ENV}), exports need Authorization: Bearer TOKEN: the srvlens agent sends it when ${TOKEN_ENV}`,
        'is set in its environment; an OpenTelemetry SDK sends it with OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer TOKEN".',
        '',
        'There is no load generator here: the figures are the server side\'s (requests served, server time, its parts, CPU,',
        'context switches); client latency, send_wait and network are not measured. Load the apps with anything you like.',
        'Keys: tab next server, c compare view, t over time, h or ? help, q or Ctrl-C quit. Without a terminal it prints a line per',
        'server and interval. It ends with exit code 0 on q or SIGTERM, 130 on SIGINT; the recording is complete either way.',
      ].join('\n'),
    )
    .action(async (o: Options) => {
      process.exitCode = await runDashboard(o);
    });
}

async function runDashboard(o: Options): Promise<number> {
  const token = tokenFrom(o.token);
  const onTerminal = process.stdout.isTTY && process.stdin.isTTY && !o.json;
  // Everything that waits comes before the collector listens: from then on data can come at any moment, and the
  // recording's header and the sink must be there for it.
  const host = o.out === undefined ? null : await hostFacts();
  // Loaded only with a terminal: blessed costs startup time.
  const screen = onTerminal ? await import('../../dashboard/live-servers.js') : null;
  let writer: RecordingWriter | null = null;
  let sink: Sink | null = null;
  let frames = 0;
  // A full disk ends the dashboard as a signal would, then says so (RecordingDiskFull: exit 4); the records before stay.
  const record = (r: RecordingRecord) => {
    try {
      writer?.write(r);
    } catch (err) {
      if (!(err instanceof RecordingDiskFull)) throw err;
      failed ??= err;
      wake();
    }
  };
  /** The runs whose frames are coming, by number: a frame is shown with its run's start. */
  const started = new Map<number, RunStart>();
  const runs = new ServiceRuns(o.intervalMs, {
    runStart: (start) => {
      started.set(start.run, start);
      record(start);
      sink?.start(start);
    },
    runEnd: (end, start) => {
      started.delete(end.run);
      record(end);
      sink?.end(end, start);
    },
    warn: (line) => sink?.log(line),
  });
  runs.pipe((frame) => {
    record(frame);
    frames++;
    sink?.frame(frame, started.get(frame.run)!);
  });
  let signal: NodeJS.Signals | null = null;
  let failed: unknown = null;
  let wake = () => undefined as void;
  const stopped = new Promise<void>((resolve) => (wake = resolve));
  const onSignal = (sig: NodeJS.Signals) => {
    signal = sig;
    wake();
  };
  const releaseSignals = trapStopSignals(onSignal);
  let collector: Collector | null = null;
  let clock: IntervalClock | null = null;
  try {
    collector = await listen(o, token, (list) => runs.add(list), (line) => sink?.log(line));
    const where = `${o.host}:${collector.port}`;
    const url = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${collector.port}/v1/metrics`;
    // Opened once listening, so that a port in use leaves an earlier recording of that name as it was.
    writer = openWriter(o.out);
    record({
      kind: 'header',
      schema: RECORDING_SCHEMA,
      tool: { name: 'srvlens', version: toolVersion() },
      created: new Date().toISOString(),
      scenario: { name: `dashboard on ${where}`, file: null, description: 'srvlens dashboard: servers as their agents reported them, no load generator', config: null },
      host: host!,
      interval_ms: o.intervalMs,
    });
    // The token itself is not printed: a terminal's scrollback and a CI log are not the place for it.
    const tokenHint = token === null ? '' : ` ${TOKEN_ENV}=<the token>`;
    const hint = `SRVLENS_COLLECTOR_URL=${url}${o.intervalMs === DEFAULT_INTERVAL_MS ? '' : ` SRVLENS_INTERVAL_MS=${o.intervalMs}`}${tokenHint} node --import srvlens/agent app.js`;
    // Before the screen takes the terminal, so that it is there to read again once the dashboard has ended.
    const shown = onTerminal ? 'the dashboard' : o.json ? 'no terminal, so a JSON line per record here' : 'no terminal, so a line per server and interval here';
    process.stderr.write(`srvlens dashboard: listening on ${url} (and /v1/traces); ${shown}. Agents: ${hint}\n`);
    if (screen) {
      const live = screen.startLiveServersDashboard(`dashboard on ${where}`, o.intervalMs);
      live.done.then(wake, (err: unknown) => {
        // Our bug: said with its stack; the collector still stops in order and the recording is kept.
        failed = err;
        wake();
      });
      live.log(`waiting for agents: ${hint}`);
      sink = {
        start: (r) => {
          live.start(r);
          live.log(`${r.server} reports (server ${r.run + 1}); tab: next server, c: compare`);
        },
        frame: live.frame,
        end: (e, r) => {
          live.end(e.run, e.ok, e.error);
          live.log(`${r.server} stopped reporting: its run ended`);
        },
        log: live.log,
        close: live.close,
      };
    } else sink = o.json ? jsonSink() : lineSink(o.intervalMs);
    clock = startIntervalClock(o.intervalMs, TICK_GRACE_MS, (index) => runs.tick(index));
    await stopped;
  } finally {
    releaseSignals();
    clock?.stop();
    await collector?.close();
    // Every interval the agents reported goes out, and every run ends: the recording is complete.
    runs.finish();
    sink?.close();
    record({ kind: 'end', t_ms: monoMs(), ok: true });
    writer?.close();
  }
  const recorded = o.out ? `; recorded in ${o.out} (srvlens replay ${o.out})` : '';
  process.stderr.write(`srvlens dashboard: ${runs.count} server${runs.count === 1 ? '' : 's'}, ${frames} frame${frames === 1 ? '' : 's'}${recorded}\n`);
  if (failed) throw failed;
  return signal === 'SIGINT' ? EXIT.interrupted : EXIT.ok;
}

function openWriter(out: string | undefined): RecordingWriter | null {
  if (out === undefined) return null;
  try {
    return RecordingWriter.open(out);
  } catch (err) {
    throw cannotWrite(out, err);
  }
}

type CollectorOptions = Parameters<typeof startCollector>[0];

async function listen(o: Options, token: string | null, onAgentIntervals: CollectorOptions['onAgentIntervals'], onNotice: CollectorOptions['onNotice']): Promise<Collector> {
  try {
    return await startCollector({ intervalMs: o.intervalMs, host: o.host, port: o.port, token, hostSetting: `--host ${o.host}`, onAgentIntervals, onNotice });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'EADDRINUSE') {
      throw new UserError(`--port ${o.port}: already in use on ${o.host} (another collector? OpenTelemetry Collectors listen on 4318 too): pick another port with --port, or 0 for any free one`);
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EACCES') {
      throw new UserError(`--host ${o.host} --port ${o.port}: cannot listen there (${code})`);
    }
    throw err;
  }
}

function jsonSink(): Sink {
  const line = (r: RecordingRecord) => process.stdout.write(JSON.stringify(r) + '\n');
  return { start: line, frame: (f) => line(f), end: line, log: (l) => process.stderr.write(`srvlens dashboard: ${l}\n`), close: () => undefined };
}

/** A line per server and interval: what a terminal-less user (a log, a CI job) reads. */
function lineSink(intervalMs: number): Sink {
  const out = (l: string) => process.stdout.write(l + '\n');
  const log = (l: string) => process.stderr.write(`srvlens dashboard: ${l}\n`);
  return {
    start: (r) => log(`${r.server} (${r.model}) reports: server ${r.run + 1}`),
    frame: (f, r) => out(frameLine(f, r, intervalMs)),
    end: (_, r) => log(`${r.server}: its run ends (it stopped reporting, or we are stopping)`),
    log,
    close: () => undefined,
  };
}

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v < 10 ? v.toFixed(2) : v.toFixed(1));

function frameLine(f: Frame, r: RunStart, intervalMs: number): string {
  const s = serverStats([f]);
  const at = new Date(monoToEpochMs((f.index + 1) * intervalMs)).toISOString().slice(11, 19);
  const parts = Object.entries(s.parts_ms)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k} ${ms(v)}`)
    .join(', ');
  const cpu = s.cpu_cores === null ? '-' : `${Math.round(s.cpu_cores * 100)} %`;
  return (
    `${at} ${r.server}: ${s.requests ?? '-'} req (${s.served_rps === null ? '-' : s.served_rps.toFixed(1)} req/s), ` +
    `server time p50 ${ms(s.time_ms?.p50)} p99 ${ms(s.time_ms?.p99)} ms, CPU ${cpu}, parts ms/req: ${parts || '-'}`
  );
}
