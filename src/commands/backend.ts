import type { Command } from 'commander';
import { runBackendCommand } from '../servers/backend/backend-main.js';
import { intOption, TARGET_TOKEN_HELP } from './options.js';
import { untilStopped } from './stop-signals.js';
import { requireTokenBeyondLoopback, tokenFrom } from '../vocabulary/exposure.js';

export function registerBackend(program: Command): void {
  program
    .command('backend')
    .description('Run the backend tier: a TCP server with a latency distribution and a concurrency limit, until Ctrl-C')
    .option('--host <host>', 'address to listen on; beyond loopback (127.0.0.0/8, ::1, localhost) only with --token', '127.0.0.1')
    .option('--token <token>', TARGET_TOKEN_HELP)
    .option('--port <n>', 'port to listen on (0: any free one)', intOption, 7070)
    .option('--latency <dist>', 'fixed:MS, uniform:MIN:MAX, exponential:MEAN or lognormal:MEDIAN:SIGMA', 'fixed:5')
    .option('--limit <n>', 'calls in service at once; more wait in a FIFO queue', intOption, 64)
    .option('--seed <n>', 'seed of the latency sampler, for repeatable runs', intOption)
    .action(async (o) => {
      requireTokenBeyondLoopback(o.host, tokenFrom(o.token), `--host ${o.host}`);
      await runBackendCommand({ host: o.host, port: o.port, latency: o.latency, limit: o.limit, seed: o.seed }, untilStopped());
    });
}
