import type { Command } from 'commander';
import { UserError } from '../vocabulary/errors.js';
import { reportFromFile } from '../report/load-report.js';
import { renderText } from '../report/text-report.js';
import { renderMarkdown } from '../report/markdown-report.js';
import { renderHtml } from '../report/html/html-report.js';
import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { cannotWrite, sloOption } from './options.js';
import { addPrometheusOptions, prometheusQuery, type PrometheusOptions } from './prometheus-options.js';
import { reportFromPrometheus } from '../report/prometheus-report.js';
import type { Slo } from '../vocabulary/slo.js';

const FORMATS = ['text', 'json', 'markdown', 'html'];
const FORMAT_BY_EXTENSION: Record<string, string> = { '.json': 'json', '.md': 'markdown', '.html': 'html', '.htm': 'html', '.txt': 'text' };

export function registerReport(program: Command): void {
  const cmd = program
    .command('report')
    .description(
      'Summarise a recording: which server sustains the most, where it bends, what gave out and what to change; then per phase, throughput, latency, where the time goes, what the model costs. ' +
        'Or, with --prometheus, a service in production from its agents\' series: the same figures per instance and for the fleet, and the headroom left at its busiest',
    )
    .argument('[file]', 'a recording made by `srvlens run`, `srvlens dashboard --out` or `srvlens record` (.srvlens.gz)');
  addPrometheusOptions(cmd, 'read the service from this Prometheus (its HTTP API, e.g. http://127.0.0.1:9090) instead of a file')
    .option('--capacity <file>', 'with --prometheus: a recording of a capacity run of the same service (`srvlens run`), whose knee the headroom is against')
    .option('--format <format>', 'text, json (schema srvlens.report/2), markdown or html (one self-contained page with the charts); default: from --out\'s extension, else text')
    .option('--json', 'same as --format json')
    .option('--out <file>', 'write the report to this file instead of standard output')
    .option('--slo <text>', 'judge the max sustainable rate against this SLO, e.g. "p99<100ms, errors<1%" (default: the scenario\'s slo)', sloOption)
    .action(async (file: string | undefined, opts: { format?: string; json?: boolean; out?: string; slo?: Slo; capacity?: string } & PrometheusOptions) => {
      const format = opts.json ? 'json' : (opts.format ?? (opts.out ? FORMAT_BY_EXTENSION[extname(opts.out).toLowerCase()] : undefined) ?? 'text');
      if (!FORMATS.includes(format)) throw new UserError(`--format must be ${FORMATS.slice(0, -1).join(', ')} or ${FORMATS[FORMATS.length - 1]}, not '${format}'`, 'SCENARIO_USAGE');
      if (file !== undefined && opts.prometheus) throw new UserError('give a recording or --prometheus, not both', 'SCENARIO_USAGE');
      if (file === undefined && !opts.prometheus) throw new UserError('give a recording (srvlens report FILE) or a Prometheus (--prometheus URL --service NAME)', 'SCENARIO_USAGE');
      const report = file === undefined ? await reportFromPrometheus(prometheusQuery(opts), { capacityFile: opts.capacity, slo: opts.slo ?? null }) : await reportFromFile(file, opts.slo ?? null);
      if (report.damage) process.stderr.write(`srvlens: ${file}: ${report.damage.message}; reporting the ${report.damage.after_records} records before it\n`);
      const text = format === 'json' ? JSON.stringify(report, null, 2) + '\n' : format === 'markdown' ? renderMarkdown(report) + '\n' : format === 'html' ? await renderHtml(report) : renderText(report);
      if (!opts.out) process.stdout.write(text);
      else {
        try {
          await writeFile(opts.out, text);
        } catch (err) {
          throw cannotWrite(opts.out, err);
        }
      }
    });
}
