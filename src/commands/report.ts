import type { Command } from 'commander';
import { UserError } from '../vocabulary/errors.js';
import { reportFromFile } from '../report/load-report.js';
import { renderText } from '../report/text-report.js';
import { renderMarkdown } from '../report/markdown-report.js';
import { renderHtml } from '../report/html/html-report.js';
import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { sloOption } from './options.js';
import type { Slo } from '../vocabulary/slo.js';

const FORMATS = ['text', 'json', 'markdown', 'html'];
const FORMAT_BY_EXTENSION: Record<string, string> = { '.json': 'json', '.md': 'markdown', '.html': 'html', '.htm': 'html', '.txt': 'text' };

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('Summarise a recording: which server sustains the most, where it bends, what gave out and what to change; then per phase, throughput, latency, where the time goes, what the model costs')
    .argument('<file>', 'a recording made by `srvlens run` or `srvlens dashboard --out` (.srvlens.gz)')
    .option('--format <format>', 'text, json (schema srvlens.report/2), markdown or html (one self-contained page with the charts); default: from --out\'s extension, else text')
    .option('--json', 'same as --format json')
    .option('--out <file>', 'write the report to this file instead of standard output')
    .option('--slo <text>', 'judge the max sustainable rate against this SLO, e.g. "p99<100ms, errors<1%" (default: the scenario\'s slo)', sloOption)
    .action(async (file: string, opts: { format?: string; json?: boolean; out?: string; slo?: Slo }) => {
      const format = opts.json ? 'json' : (opts.format ?? (opts.out ? FORMAT_BY_EXTENSION[extname(opts.out).toLowerCase()] : undefined) ?? 'text');
      if (!FORMATS.includes(format)) throw new UserError(`--format must be ${FORMATS.join(', ')}, not '${format}'`, 'SCENARIO_USAGE');
      const report = await reportFromFile(file, opts.slo ?? null);
      if (report.damage) process.stderr.write(`srvlens: ${file}: ${report.damage.message}; reporting the ${report.damage.after_records} records before it\n`);
      const text = format === 'json' ? JSON.stringify(report, null, 2) + '\n' : format === 'markdown' ? renderMarkdown(report) + '\n' : format === 'html' ? await renderHtml(report) : renderText(report);
      if (opts.out) await writeFile(opts.out, text);
      else process.stdout.write(text);
    });
}
