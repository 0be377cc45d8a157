import type { Command } from 'commander';
import { UserError } from '../vocabulary/errors.js';
import { reportFromFile } from '../report/load-report.js';
import { renderText } from '../report/text-report.js';
import { renderMarkdown } from '../report/markdown-report.js';
import { sloOption } from './options.js';
import type { Slo } from '../vocabulary/slo.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('Summarise a recording: which server sustains the most, where it bends, what gave out and what to change; then per phase, throughput, latency, where the time goes, what the model costs')
    .argument('<file>', 'a recording made by `srvlens run` or `srvlens dashboard --out` (.srvlens.gz)')
    .option('--format <format>', 'text, json (schema srvlens.report/2) or markdown', 'text')
    .option('--json', 'same as --format json')
    .option('--slo <text>', 'judge the max sustainable rate against this SLO, e.g. "p99<100ms, errors<1%" (default: the scenario\'s slo)', sloOption)
    .action(async (file: string, opts: { format: string; json?: boolean; slo?: Slo }) => {
      const format = opts.json ? 'json' : opts.format;
      if (format !== 'text' && format !== 'json' && format !== 'markdown') throw new UserError(`--format must be text, json or markdown, not '${format}'`, 'SCENARIO_USAGE');
      const report = await reportFromFile(file, opts.slo ?? null);
      if (report.damage) process.stderr.write(`srvlens: ${file}: ${report.damage.message}; reporting the ${report.damage.after_records} records before it\n`);
      process.stdout.write(format === 'json' ? JSON.stringify(report, null, 2) + '\n' : format === 'markdown' ? renderMarkdown(report) + '\n' : renderText(report));
    });
}
