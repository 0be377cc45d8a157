import type { Command } from 'commander';
import { MODELS } from '../servers/models.js';
import { runServeCommand } from '../servers/serve-main.js';
import { startBackend } from '../servers/backend.js';
import { parseLatencyFlag } from '../servers/latency.js';
import { intOption } from './options.js';

export function registerServe(program: Command): void {
  const models = Object.values(MODELS)
    .map((m) => `  ${m.id.padEnd(22)} ${m.summary}`)
    .join('\n');
  program
    .command('serve')
    .description('Run one reference server of a concurrency model on the shared workload, until Ctrl-C')
    .requiredOption('--model <id>', 'the concurrency model (see below)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0: any free one)', intOption, 8080)
    .option('--backend-port <n>', 'the backend tier to call (`srvlens backend`); without it an in-process backend is started', intOption)
    .option('--backend-latency <dist>', 'latency of the in-process backend: fixed:MS, uniform:MIN:MAX, exponential:MEAN, lognormal:MEDIAN:SIGMA', 'fixed:5')
    .option('--parse-us <n>', 'CPU microseconds spent parsing each request', intOption)
    .option('--process-us <n>', 'CPU microseconds spent processing each request', intOption)
    .option('--transform-us <n>', 'CPU microseconds spent transforming the backend reply', intOption)
    .option('--backend-calls <n>', 'backend calls per request, one after another', intOption)
    .option('--response-bytes <n>', 'size of each response body', intOption)
    .addHelpText('after', `\nModels:\n${models}\n\nRun under the agent to see where the time goes:\n  node --import srvlens/agent $(npm root)/srvlens/dist/src/cli.js serve --model event-loop`)
    .action(async (o) => {
      let backendPort: number | undefined = o.backendPort;
      let closeBackend = async () => undefined as void;
      if (backendPort === undefined) {
        const backend = await startBackend({ latency: parseLatencyFlag(o.backendLatency), limit: 1024 });
        backendPort = backend.port;
        closeBackend = () => backend.close();
        process.stdout.write(`in-process backend (${o.backendLatency}) on 127.0.0.1:${backend.port}\n`);
      }
      const workload = Object.fromEntries(
        Object.entries({
          parse_us: o.parseUs,
          process_us: o.processUs,
          transform_us: o.transformUs,
          backend_calls: o.backendCalls,
          response_bytes: o.responseBytes,
        }).filter(([, v]) => v !== undefined),
      );
      try {
        await runServeCommand({ model: o.model, host: o.host, port: o.port, workload, backend: { host: '127.0.0.1', port: backendPort } });
      } finally {
        await closeBackend();
      }
    });
}
