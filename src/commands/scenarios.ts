import type { Command } from 'commander';
import { shippedScenarios } from '../scenario/shipped.js';

export function registerScenarios(program: Command): void {
  program
    .command('scenarios')
    .description('List the scenarios that come with srvlens, by the name `srvlens run NAME` takes, with what each shows')
    .option('--json', 'print [{name, description, file}] on stdout')
    .addHelpText('after', '\nAny of them runs by name wherever srvlens is installed (`srvlens run quickstart`); copy its file to make your own.')
    .action((opts: { json?: boolean }) => {
      const list = shippedScenarios();
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
        return;
      }
      const width = Math.max(...list.map((s) => s.name.length));
      process.stdout.write(list.map((s) => `${s.name.padEnd(width)}  ${s.description}`.trimEnd()).join('\n') + '\n');
    });
}
