/** The bench's collector: what the agents of its trials export, kept by the pid of the server that sent it. */
import type { AgentInterval } from '../../src/collect/otlp-json.js';
import { startCollector, type Collector } from '../../src/collect/receiver.js';

export interface ExemplarCounts {
  slowest: number;
  sampled: number;
}

export class AgentReports {
  private readonly intervalsByPid = new Map<number, AgentInterval[]>();
  /** Exemplar spans that reached the collector, by the pid in their resource, and by kind. */
  private readonly exemplarsByPid = new Map<number, ExemplarCounts>();

  private collector!: Collector;

  private constructor() {}

  static async start(intervalMs: number): Promise<AgentReports> {
    const reports = new AgentReports();
    reports.collector = await startCollector({ intervalMs, onAgentIntervals: (intervals) => reports.add(intervals) });
    return reports;
  }

  get metricsUrl(): string {
    return this.collector.metricsUrl;
  }

  /** Exports the collector turned away, with why. */
  get rejected(): Collector['rejected'] {
    return this.collector.rejected;
  }

  intervals(pid: number): AgentInterval[] {
    return this.intervalsByPid.get(pid) ?? [];
  }

  exemplars(pid: number): ExemplarCounts {
    return this.exemplarsByPid.get(pid) ?? { slowest: 0, sampled: 0 };
  }

  /** A trial's server is gone: its reports are no longer needed. */
  forget(pid: number): void {
    this.intervalsByPid.delete(pid);
    this.exemplarsByPid.delete(pid);
  }

  close(): Promise<void> {
    return this.collector.close();
  }

  private add(intervals: AgentInterval[]): void {
    for (const i of intervals) {
      // Exemplar spans come in through /v1/traces as intervals of their own that carry no request counts.
      if (i.exemplars !== undefined) {
        const n = this.exemplarsByPid.get(i.pid) ?? { slowest: 0, sampled: 0 };
        for (const e of i.exemplars) n[e.kind === 'slowest' ? 'slowest' : 'sampled']++;
        this.exemplarsByPid.set(i.pid, n);
        continue;
      }
      const list = this.intervalsByPid.get(i.pid) ?? [];
      list.push(i);
      this.intervalsByPid.set(i.pid, list);
    }
  }
}
