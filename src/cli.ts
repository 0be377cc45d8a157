#!/usr/bin/env node
/** The `srvlens` command. Each subcommand lives in src/commands/; this file only wires them to commander. */
import { Command, CommanderError } from 'commander';
import { EXIT, isUserMistake } from './vocabulary/errors.js';
import { registerRun } from './commands/run.js';
import { registerReport } from './commands/report.js';
import { registerServe } from './commands/serve.js';
import { registerBackend } from './commands/backend.js';
import { registerReplay } from './commands/replay.js';
import { registerValidate } from './commands/validate.js';
import { registerCapacity } from './commands/capacity.js';
import { registerAttach } from './commands/attach.js';
import { registerDashboard } from './commands/dashboard.js';
import { registerRecord } from './commands/record.js';
import { registerScenarios } from './commands/scenarios.js';
import { toolVersion } from './vocabulary/package-paths.js';

// Output piped into a reader that stops early (`srvlens report run.gz | head`): stop quietly, as Unix tools do.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(EXIT.ok);
});

const program = new Command()
  .name('srvlens')
  .description('Profiles servers by concurrency model: where each request\'s time goes, and what the model costs.')
  .version(toolVersion())
  .showHelpAfterError()
  .exitOverride();

registerRun(program);
registerReport(program);
registerServe(program);
registerBackend(program);
registerReplay(program);
registerValidate(program);
registerCapacity(program);
registerAttach(program);
registerDashboard(program);
registerRecord(program);
registerScenarios(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else if (isUserMistake(err)) {
    process.stderr.write(`srvlens: ${err.message}\n`);
    // A user's error may name a code of its own (a full disk: EXIT.diskFull).
    process.exitCode = (err as { exitCode?: number }).exitCode ?? EXIT.usage;
  } else {
    process.stderr.write(`srvlens: internal error (please report):\n${(err as Error).stack ?? err}\n`);
    process.exitCode = EXIT.internal;
  }
}
