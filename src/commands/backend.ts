import type { Command } from 'commander';
import { runBackendCommand } from '../servers/backend/backend-main.js';
import { intOption } from './options.js';

export function registerBackend(program: Command): void {
  program
    .command('backend')
    .description('Run the backend tier: a TCP server with a latency distribution and a concurrency limit, until Ctrl-C')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0: any free one)', intOption, 7070)
    .option('--latency <dist>', 'fixed:MS, uniform:MIN:MAX, exponential:MEAN or lognormal:MEDIAN:SIGMA', 'fixed:5')
    .option('--limit <n>', 'calls in service at once; more wait in a FIFO queue', intOption, 64)
    .option('--seed <n>', 'seed of the latency sampler, for repeatable runs', intOption)
    .action(async (o) => {
      await runBackendCommand({ host: o.host, port: o.port, latency: o.latency, limit: o.limit, seed: o.seed });
    });
}
