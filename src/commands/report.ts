import type { Command } from 'commander';
import { UserError } from '../vocabulary/errors.js';
import { reportFromFile } from '../report/load-report.js';
import { renderText } from '../report/text-report.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('Summarise a recording: per server and phase, throughput, latency, where the time goes, what the model costs')
    .argument('<file>', 'a recording made by `srvlens run` or `srvlens dashboard --out` (.srvlens.gz)')
    .option('--format <format>', 'text or json (schema srvlens.report/1)', 'text')
    .option('--json', 'same as --format json')
    .action(async (file: string, opts: { format: string; json?: boolean }) => {
      const format = opts.json ? 'json' : opts.format;
      if (format !== 'text' && format !== 'json') throw new UserError(`--format must be text or json, not '${format}'`, 'SCENARIO_USAGE');
      const report = await reportFromFile(file);
      if (report.damage) process.stderr.write(`srvlens: ${file}: ${report.damage.message}; reporting the ${report.damage.after_records} records before it\n`);
      process.stdout.write(format === 'json' ? JSON.stringify(report, null, 2) + '\n' : renderText(report));
    });
}
