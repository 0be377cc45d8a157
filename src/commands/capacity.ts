import { InvalidArgumentError, type Command } from 'commander';
import { EXIT, UserError } from '../vocabulary/errors.js';
import { trapStopSignals } from './stop-signals.js';
import { runCapacity } from '../scenario/capacity/run-capacity.js';
import { loadScenario } from '../scenario/read-scenario.js';
import { SCENARIO_ARG_HELP, resolveScenarioFile } from '../scenario/shipped.js';
import { RunAborted } from '../scenario/run/runner.js';
import { KERNEL_HELP, kernelWanted, sloOption } from './options.js';
import { parseVary, type Vary } from '../scenario/capacity/vary.js';
import { wrap } from '../report/table.js';
import { REPORT_COLUMNS } from '../report/summary-text.js';
import type { Slo } from '../vocabulary/slo.js';

function varyOption(text: string): Vary {
  const vary = parseVary(text);
  if (typeof vary === 'string') throw new InvalidArgumentError(`${vary}, got '${text}'`);
  return vary;
}

/** A sweep's sizes: measured, predicted from the other sizes, and how far apart. */
function sweepText(sweep: NonNullable<Awaited<ReturnType<typeof runCapacity>>['sweeps']>[number]): string {
  const a = sweep.analysis;
  const lines = [`\n${sweep.server} (${sweep.model}) over ${sweep.vary}: each size's capacity (the most its probes answered) against the USL of the others${a.lambda ? ` (lambda ${a.lambda.rps.toFixed(1)} req/s: ${a.lambda.basis})` : ''}`];
  lines.push(`  ${sweep.vary.padEnd(8)} ${'measured req/s'.padStart(14)} ${'predicted req/s'.padStart(15)} ${'error'.padStart(7)}`);
  for (const p of a.points) {
    lines.push(`  ${String(p.n).padEnd(8)} ${(p.measured_rps?.toFixed(1) ?? '-').padStart(14)} ${(p.predicted_rps?.toFixed(1) ?? '-').padStart(15)} ${(p.error === null ? '-' : `${(p.error * 100).toFixed(1)} %`).padStart(7)}${p.predicted_rps === null ? `  ${p.basis}` : ''}`);
  }
  lines.push(a.fit.ok ? `  all sizes: sigma ${a.fit.fit.sigma.toFixed(4)}, kappa ${a.fit.fit.kappa.toFixed(5)}, r2 ${a.fit.fit.r2.toFixed(3)}${a.fit.fit.n_star !== null ? `, N* ${a.fit.fit.n_star.toFixed(1)}, peak ${a.fit.fit.peak_rps!.toFixed(0)} req/s` : ', no peak (N* none)'}` : `  all sizes: not fitted: ${a.fit.reason}`);
  return lines.join('\n') + '\n';
}

function secondsOption(text: string): number {
  const n = Number(text);
  if (!(n > 0)) throw new InvalidArgumentError(`expected a number of seconds greater than 0, got '${text}'`);
  return n;
}

export function registerCapacity(program: Command): void {
  program
    .command('capacity')
    .description('Find, per server of a scenario, the highest rate it sustains within the SLO, and what gave out there')
    .argument('<scenario>', `${SCENARIO_ARG_HELP}, e.g. capacity-search; its \`capacity:\` section tunes the search`)
    .option('--slo <text>', 'the SLO, e.g. "p99<100ms" or "p99<100ms, errors<1%" (default: the scenario\'s slo)', sloOption)
    .option('--json', 'print {servers: [{server, model, max_sustainable_rps, slo, reason, gave_out, confirmed, probes, summary}], sweeps} on stdout (summary: as the report\'s, docs/report-json.md)')
    .option('--vary <size=values>', 'search each server that has this size once per value, e.g. threads=4,8,16,32, and check the USL fit of the other sizes against each', varyOption)
    .option('--max-seconds <s>', 'time budget of the whole search (default: the scenario\'s capacity.max_seconds, else 600)', secondsOption)
    .option('--no-kernel', `${KERNEL_HELP}: without it, as root, the servers with no agent in them are traced from the kernel, so their probes have their requests' parts`)
    .addHelpText(
      'after',
      '\nThe search steps the rate up until a probe fails the SLO, bisects, then confirms over a longer window; each probe\n' +
        'is a run of its own (backend, server, generator) on a temporary recording. Progress goes to stderr.\n' +
        'gave_out: latency (the SLO percentile, the server\'s own queue), errors, backend (its concurrency limit),\n' +
        'generator (it could not keep up: the server\'s limit is higher), throughput, max_rps, time, no-server.',
    )
    .action(async (arg: string, opts: { slo?: Slo; json?: boolean; maxSeconds?: number; vary?: Vary; kernel: boolean }) => {
      const file = resolveScenarioFile(arg);
      const scenario = loadScenario(file);
      const slo = opts.slo ?? scenario.slo;
      if (slo === undefined) throw new UserError(`${file}: no SLO to search against: give --slo "p99<100ms" or an \`slo:\` in the scenario`);
      const controller = new AbortController();
      const onSignal = (sig: NodeJS.Signals) => {
        process.stderr.write(`\nsrvlens: ${sig}: stopping the search and every process of the probe\n`);
        controller.abort();
      };
      const releaseSignals = trapStopSignals(onSignal);
      try {
        const result = await runCapacity({
          scenario,
          slo,
          maxSeconds: opts.maxSeconds,
          vary: opts.vary,
          file,
          kernel: kernelWanted(opts.kernel),
          signal: controller.signal,
          onLog: (l) => process.stderr.write(`srvlens capacity: ${l}\n`),
        });
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
          return;
        }
        const rows = result.servers.map((s) => [s.server, s.model, s.max_sustainable_rps === null ? '-' : `${s.max_sustainable_rps}${s.confirmed ? '' : '?'}`, s.gave_out, s.reason]);
        const head = ['server', 'model', 'max req/s', 'gave out', 'reason'];
        const widths = head.map((h, i) => Math.max(h.length, ...rows.slice(0).map((r) => (i < 4 ? r[i].length : 0))));
        const line = (r: string[]) => r.map((c, i) => (i < 4 ? c.padEnd(widths[i]) : c)).join('  ');
        process.stdout.write(`${[line(head), ...rows.map(line)].join('\n')}\n`);
        if (rows.some((r) => r[2].endsWith('?'))) process.stdout.write('? not confirmed over the longer window (see reason)\n');
        // The report's findings over the probes, as the report says them of a run's phases.
        for (const server of result.servers) if (server.summary) process.stdout.write(`\n${wrap(server.summary.diagnosis, REPORT_COLUMNS).join('\n')}\n`);
        for (const sweep of result.sweeps ?? []) process.stdout.write(sweepText(sweep));
      } catch (err) {
        if (err instanceof RunAborted) {
          process.stderr.write('srvlens: capacity search stopped\n');
          process.exitCode = EXIT.interrupted;
          return;
        }
        throw err;
      } finally {
        releaseSignals();
      }
    });
}
