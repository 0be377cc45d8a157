import { InvalidArgumentError, type Command } from 'commander';
import { EXIT } from '../vocabulary/errors.js';
import { trapStopSignals } from './stop-signals.js';
import { reportFromFile } from '../report/load-report.js';
import { renderText } from '../report/text-report.js';

function speedOption(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a number greater than 0, got '${value}'`);
  return n;
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('Replay a recording in the terminal dashboard: each server as it ran, and every server side by side')
    .argument('<file>', 'a recording made by `srvlens run` (.srvlens.gz)')
    .option('--speed <n>', 'intervals of the recording played per interval of real time', speedOption, 1)
    .addHelpText('after', '\nKeys: space pause, left/right step, home/end seek, +/- speed, tab next server, c compare view, k capacity view, t over time, h or ? help, q quit.\nWithout a terminal it prints the report instead (as `srvlens report`).')
    .action(async (file: string, opts: { speed: number }) => {
      if (!process.stdout.isTTY || !process.stdin.isTTY) {
        const which = process.stdout.isTTY ? 'input' : 'output';
        process.stderr.write(`srvlens: replay needs a terminal and standard ${which} is not one: printing the report instead\n`);
        const report = await reportFromFile(file);
        if (report.damage) process.stderr.write(`srvlens: ${file}: ${report.damage.message}; reporting the ${report.damage.after_records} records before it\n`);
        process.stdout.write(renderText(report));
        return;
      }
      // Loaded here, so that commands without a terminal UI do not pay for loading blessed.
      const { replayRecording } = await import('../../dashboard/replay.js');
      // Our own handlers: blessed's (used only when it is the sole listener) would exit 0 on SIGTERM mid-replay.
      const stop = new AbortController();
      const releaseSignals = trapStopSignals(() => stop.abort());
      const result = await replayRecording(file, { input: process.stdin, output: process.stdout, speed: opts.speed, stop: stop.signal }).finally(releaseSignals);
      if (result.damage) process.stderr.write(`srvlens: ${file}: ${result.damage}; replayed the records before it\n`);
      if (stop.signal.aborted) process.exitCode = EXIT.interrupted;
    });
}
