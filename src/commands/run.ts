import type { Command } from 'commander';
import { EXIT } from '../vocabulary/errors.js';
import { trapStopSignals } from './stop-signals.js';
import { KERNEL_HELP, kernelWanted } from './options.js';
import { loadScenario } from '../scenario/read-scenario.js';
import { SCENARIO_ARG_HELP, resolveScenarioFile } from '../scenario/shipped.js';
import { RunAborted, runScenario, scenarioSeconds } from '../scenario/run/runner.js';
import { reportFromFile } from '../report/load-report.js';
import { renderText } from '../report/text-report.js';
import { expQuantile } from '../vocabulary/index.js';
import { summariseHdr } from '../vocabulary/hdr.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('Run a scenario: start the backend, each server with the agent, the load; record everything to a file')
    .argument('<scenario>', `${SCENARIO_ARG_HELP}, e.g. quickstart or ./my-scenario.yaml`)
    .option('-o, --out <file>', 'recording to write', 'run.srvlens.gz')
    .option('--json', 'print the report as JSON (srvlens.report/2) instead of a table')
    .option('-q, --quiet', 'no progress lines')
    .option('--no-kernel', `${KERNEL_HELP}: without it, as root, each server's accept queue is timed from the kernel, and the requests of a server with no agent in it`)
    .action(async (arg: string, opts: { out: string; json?: boolean; quiet?: boolean; kernel: boolean }) => {
      const file = resolveScenarioFile(arg);
      const scenario = loadScenario(file);
      const controller = new AbortController();
      const onSignal = (sig: NodeJS.Signals) => {
        process.stderr.write(`\nsrvlens: ${sig}: stopping every process of the run\n`);
        controller.abort();
      };
      const releaseSignals = trapStopSignals(onSignal);
      const progress = (line: string) => opts.quiet || process.stderr.write(line + '\n');
      progress(`srvlens: ${scenario.name}: ${scenario.servers.length} server(s), about ${scenarioSeconds(scenario)} s of load; recording to ${opts.out}`);
      // With a terminal on both ends (the dashboard reads keys too), the live dashboard instead of progress lines;
      // its q and Ctrl-C stop the run as SIGINT does. Loaded only then: blessed costs startup time.
      const live =
        process.stdout.isTTY && process.stdin.isTTY
          ? (await import('../../dashboard/live.js')).startLiveDashboard(scenario, () => onSignal('SIGINT'))
          : null;
      let result: Awaited<ReturnType<typeof runScenario>>;
      try {
        result = await runScenario({
          scenario,
          scenarioFile: file,
          out: opts.out,
          signal: controller.signal,
          kernel: kernelWanted(opts.kernel),
          onLog: (l) => (live ? live.log(l) : progress(`srvlens: ${l}`)),
          onFrame: live ? live.onFrame : (f, run) => {
            const g = f.generator;
            if (!g || opts.quiet) return;
            const lat = summariseHdr([g.latency_hdr]);
            const p99 = lat ? lat.p99_us / 1000 : null;
            const loop = f.contexts.find((c) => c.eventloop_delay)?.eventloop_delay;
            const lag = loop ? expQuantile(loop, 0.99) : null;
            progress(
              `  ${run.server} ${g.phase.padEnd(10)} offered ${(g.target_rps).toFixed(0).padStart(6)} req/s  done ${String(g.completed).padStart(6)}  ` +
                `p99 ${p99 === null ? '-' : p99.toFixed(2)} ms  loop p99 ${lag === null ? '-' : (lag * 1000).toFixed(2)} ms${g.saturated ? '  [generator saturated]' : ''}`,
            );
          },
        }).finally(() => live?.close()); // the terminal back before the run's own messages
      } catch (err) {
        if (err instanceof RunAborted) {
          process.stderr.write(`srvlens: run stopped; what was recorded is in ${opts.out}\n`);
          process.exitCode = EXIT.interrupted;
          return;
        }
        throw err;
      } finally {
        releaseSignals();
      }
      const report = await reportFromFile(opts.out);
      process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : renderText(report));
      if (result.failed > 0) {
        process.stderr.write(`srvlens: ${result.failed} of ${result.runs} runs ended early, their server or its backend dead; the report marks them (exit status, end of stderr)\n`);
        process.exitCode = EXIT.runFailed;
      }
    });
}
