/**
 * The in-process agent: subscribes to node:http's diagnostics channels, installs the explicit stage hook, and
 * once per interval exports what the hot path summed, plus process counters, over OTLP.
 *
 * It observes and never changes its host: no signal handlers, no exit, unref'd timers, every callback guarded
 * (errors are counted and exported, never thrown into the app), a bounded export queue with a drop counter.
 */
import dc from 'node:diagnostics_channel';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { AGENT_HOOKS, ATTR, STAGE_COUNT, monoMs, monoToEpochMs, type AgentHooks } from '../../src/model/index.js';
import type { AgentConfig } from './config.js';
import type { IntervalAccumulator } from './interval-accumulator.js';
import type { IntervalRecord } from './interval-record.js';
import { LoopDelaySampler } from './loop-delay.js';
import { toResourceMetrics } from './otlp-metrics.js';
import { ProcessSampler } from './process-sampler.js';
import { RequestTracker } from './request-tracker.js';

/** How long after a boundary the harvest runs: late enough that the boundary has passed on every clock read. */
const HARVEST_DELAY_MS = 5;

interface HttpMessage {
  request: { rawHeaders: string[] };
  response: { on(event: 'close', fn: () => void): unknown };
  socket: object;
}

export interface MetricExporterLike {
  export(metrics: ReturnType<typeof toResourceMetrics>, done: (result: { code: number; error?: Error }) => void): void;
  shutdown(): Promise<void>;
}

export class NodeAgent {
  readonly tracker: RequestTracker;
  private readonly loop = new LoopDelaySampler();
  private readonly proc = new ProcessSampler();
  private readonly resource: Resource;
  private readonly exporter: MetricExporterLike;
  private queue: IntervalRecord[] = [];
  private exporting = false;
  private timer: NodeJS.Timeout | null = null;
  private errors = 0;
  private droppedIntervals = 0;
  private lastDropped = 0;
  /** Intervals exported successfully; read by tests and the overhead bench. */
  exported = 0;

  constructor(private readonly config: AgentConfig, exporter?: MetricExporterLike) {
    this.tracker = new RequestTracker(config.intervalMs);
    this.resource = resourceFromAttributes({
      [ATTR.serviceName]: config.serverName,
      [ATTR.processPid]: process.pid,
      [ATTR.model]: config.model,
      [ATTR.role]: config.role,
      [ATTR.intervalMs]: config.intervalMs,
    });
    this.exporter =
      exporter ??
      new OTLPMetricExporter({
        url: config.collectorUrl,
        // A slow collector must not pile up requests: give up well before the next intervals queue behind it.
        timeoutMillis: Math.max(1000, config.intervalMs * 2),
      });
  }

  start(): void {
    dc.subscribe('net.server.socket', this.onSocket);
    dc.subscribe('http.server.request.start', this.onRequestStart);
    dc.subscribe('http.server.response.finish', this.onResponseFinish);
    (globalThis as Record<symbol, unknown>)[AGENT_HOOKS] = this.hooks;
    this.loop.start();
    this.schedule();
  }

  async stop(): Promise<void> {
    dc.unsubscribe('net.server.socket', this.onSocket);
    dc.unsubscribe('http.server.request.start', this.onRequestStart);
    dc.unsubscribe('http.server.response.finish', this.onResponseFinish);
    delete (globalThis as Record<symbol, unknown>)[AGENT_HOOKS];
    this.loop.stop();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.exporter.shutdown().catch(() => undefined);
  }

  // Hot path: arrow properties, so subscribing needs no bind and each call allocates no closure.
  private readonly onSocket = (message: unknown): void => {
    try {
      this.tracker.onAccept((message as { socket: object }).socket);
    } catch {
      this.errors++;
    }
  };

  private readonly onRequestStart = (message: unknown): void => {
    try {
      const m = message as HttpMessage;
      this.tracker.onRequestStart(m.response, m.request.rawHeaders, m.socket);
      m.response.on('close', this.onResponseClose);
    } catch {
      this.errors++;
    }
  };

  private readonly onResponseFinish = (message: unknown): void => {
    try {
      this.tracker.onResponseFinish((message as HttpMessage).response);
    } catch {
      this.errors++;
    }
  };

  // 'close' follows 'finish' on every response; it matters only when the client went away before the finish.
  private readonly onResponseClose = function (this: object): void {
    agentOfClose?.tracker.onResponseAbandoned(this);
  };

  /** The explicit API (src/model/stage-hook.ts), guarded like every other entry from the host. */
  private readonly hooks: AgentHooks = {
    begin: (handle, sendUs, acceptMs) => {
      try {
        this.tracker.begin(handle, sendUs, acceptMs);
      } catch {
        this.errors++;
      }
    },
    stage: (handle, stage) => {
      try {
        this.tracker.markStage(handle, stage);
      } catch {
        this.errors++;
      }
    },
    end: (handle) => {
      try {
        this.tracker.onResponseFinish(handle);
      } catch {
        this.errors++;
      }
    },
    context: () => undefined,
  };

  private schedule(): void {
    const now = monoMs();
    const next = (Math.floor(now / this.config.intervalMs) + 1) * this.config.intervalMs;
    this.timer = setTimeout(this.onBoundary, next - now + HARVEST_DELAY_MS);
    this.timer.unref();
  }

  private readonly onBoundary = (): void => {
    try {
      this.tracker.harvest(monoMs(), this.collect);
      this.flush();
    } catch {
      this.errors++;
    }
    this.schedule();
  };

  private readonly collect = (acc: IntervalAccumulator): void => {
    const start = acc.index * this.config.intervalMs;
    const dropped = this.tracker.dropped + this.droppedIntervals;
    const record: IntervalRecord = {
      index: acc.index,
      startEpochMs: monoToEpochMs(start),
      endEpochMs: monoToEpochMs(start + this.config.intervalMs),
      requests: acc.requests,
      joined: acc.joined,
      stageMs: Array.from(acc.stageMs),
      stageEntries: Array.from(acc.stageEntries),
      duration: acc.duration.toData(),
      process: this.proc.take(),
      ...this.takeLoop(),
      dropped: dropped - this.lastDropped,
      errors: this.errors,
    };
    this.lastDropped = dropped;
    this.errors = 0;
    if (record.stageMs.length !== STAGE_COUNT) throw new Error('stage count mismatch');
    this.queue.push(record);
    while (this.queue.length > this.config.exportQueue) {
      this.queue.shift();
      this.droppedIntervals++;
    }
  };

  private takeLoop(): { loopDelay: IntervalRecord['loopDelay']; loopUtilization: number } {
    const { delay, utilization } = this.loop.take();
    return { loopDelay: delay, loopUtilization: utilization };
  }

  /** Sends what is queued; one export at a time, and what failed stays queued (bounded) for the next boundary. */
  private flush(): void {
    if (this.exporting || this.queue.length === 0) return;
    const batch = this.queue.slice();
    this.exporting = true;
    this.exporter.export(toResourceMetrics(this.resource, batch), (result) => {
      this.exporting = false;
      if (result.code === 0) {
        // By identity: while this export was in flight the bound may have shifted older records out.
        this.queue = this.queue.filter((r) => !batch.includes(r));
        this.exported += batch.length;
      } else {
        this.errors++;
      }
    });
  }
}

/** The running agent, for the shared close listener (one function for every response, no closure per request). */
let agentOfClose: NodeAgent | null = null;
export function setActiveAgent(agent: NodeAgent | null): void {
  agentOfClose = agent;
}
