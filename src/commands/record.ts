/**
 * `srvlens record --prometheus URL --service NAME ... --out FILE`: a service's range in Prometheus written as a
 * recording, the frames a live run writes, so `srvlens replay`, the dashboard and `srvlens report FILE` read
 * production as they read a run.
 */
import type { Command } from 'commander';
import { readPrometheus } from '../collect/prometheus/read-prometheus.js';
import { RecordingWriter } from '../recording/writer.js';
import { cannotWrite } from './options.js';
import { addPrometheusOptions, prometheusQuery, type PrometheusOptions } from './prometheus-options.js';

export function registerRecord(program: Command): void {
  const cmd = program.command('record').description("Write a recording of a service in production, from its agents' series in Prometheus: per instance and for the fleet, a frame per step");
  addPrometheusOptions(cmd, 'the Prometheus to read (its HTTP API, e.g. http://127.0.0.1:9090)')
    .requiredOption('-o, --out <file>', 'the recording to write (.srvlens.gz)')
    .action(async (opts: PrometheusOptions & { out: string }) => {
      const rec = await readPrometheus(prometheusQuery(opts));
      let writer: RecordingWriter;
      try {
        writer = RecordingWriter.open(opts.out);
      } catch (err) {
        throw cannotWrite(opts.out, err);
      }
      try {
        writer.write(rec.header);
        for (const start of rec.runs) {
          writer.write(start);
          for (const f of rec.frames) if (f.run === start.run) writer.write(f);
          writer.write(rec.ends[start.run]);
        }
        writer.write({ kind: 'end', t_ms: Math.max(...rec.ends.map((e) => e.t_ms)), ok: true });
      } finally {
        writer.close();
      }
      process.stderr.write(`srvlens record: ${opts.out}: ${rec.runs.length} run(s), ${rec.frames.length} frames of ${opts.step} s from ${rec.targets.length} target(s)\n`);
    });
}
