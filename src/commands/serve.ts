import { InvalidArgumentError, type Command } from 'commander';
import { MODELS, requireAddonFor } from '../servers/models/registry.js';
import { runServeCommand } from '../servers/serve-main.js';
import { startBackend } from '../servers/backend/backend.js';
import { parseLatencyFlag } from '../servers/backend/latency.js';
import { intOption, TARGET_TOKEN_HELP } from './options.js';
import { untilStopped } from './stop-signals.js';
import { requireTokenBeyondLoopback, tokenFrom } from '../vocabulary/exposure.js';

/**
 * Where a Node model is not what the same model is in C or Java. Figures measured on this project's 2-core machines
 * (see the issues' closing notes for the commands).
 */
const NODE_NOTE = `In Node, mind the costs of contexts:
  a thread is a worker thread, a whole V8 isolate: megabytes of memory and tens of milliseconds to start
  (a pool of 2 started in 125-300 ms, of 8 in 0.5-1.2 s here), far heavier than a thread in C or Java;
  a process is a whole Node: about 130 ms to be ready (280 ms under load), so fork-per-connection tops out
  near 10 connections a second. The blocking models block for real (a native addon gives their threads
  blocking accept/recv/send), so waiting clients sit in the kernel's accept queue as they would in C.`;

function sizeOption(value: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of value.split(',')) {
    const [key, raw] = part.split('=');
    const n = Number(raw);
    if (!key || !/^[a-z_]+$/.test(key) || !Number.isInteger(n) || n < 1) {
      throw new InvalidArgumentError(`expected name=count pairs like threads=16,max_threads=64, got '${part}'`);
    }
    out[key] = n;
  }
  return out;
}

export function registerServe(program: Command): void {
  const models = Object.values(MODELS)
    .map((m) => `  ${m.id.padEnd(22)} ${m.summary}`)
    .join('\n');
  program
    .command('serve')
    .description('Run one reference server of a concurrency model on the shared workload, until Ctrl-C')
    .requiredOption('--model <id>', 'the concurrency model (see below)')
    .option('--host <host>', 'address to listen on; beyond loopback (127.0.0.0/8, ::1, localhost) only with --token', '127.0.0.1')
    .option('--token <token>', TARGET_TOKEN_HELP)
    .option('--port <n>', 'port to listen on (0: any free one)', intOption, 8080)
    .option('--backend-port <n>', 'the backend tier to call (`srvlens backend`); without it an in-process backend is started', intOption)
    .option('--backend-latency <dist>', 'latency of the in-process backend: fixed:MS, uniform:MIN:MAX, exponential:MEAN, lognormal:MEDIAN:SIGMA', 'fixed:5')
    .option('--parse-us <n>', 'CPU microseconds spent parsing each request', intOption)
    .option('--process-us <n>', 'CPU microseconds spent processing each request', intOption)
    .option('--transform-us <n>', 'CPU microseconds spent transforming the backend reply', intOption)
    .option('--backend-calls <n>', 'backend calls per request, one after another', intOption)
    .option('--response-bytes <n>', 'size of each response body', intOption)
    .option('--size <list>', "the model's size, e.g. threads=16 or processes=4 or max_threads=64 (see the models below)", sizeOption)
    .option('--policy <policy>', 'event-loop-per-core: who accepts, none (the kernel balances) or rr (the primary hands out)')
    .addHelpText('after', `\nModels:\n${models}\n\n${NODE_NOTE}\n\nRun under the agent to see where the time goes:\n  node --import srvlens/agent $(npm root)/srvlens/dist/src/cli.js serve --model event-loop`)
    .action(async (o) => {
      requireTokenBeyondLoopback(o.host, tokenFrom(o.token), `--host ${o.host}`);
      requireAddonFor([o.model]);
      const stopped = untilStopped();
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
        await runServeCommand({
          model: o.model,
          host: o.host,
          port: o.port,
          workload,
          size: o.size,
          policy: o.policy,
          backend: { host: '127.0.0.1', port: backendPort },
        }, stopped);
      } finally {
        await closeBackend();
      }
    });
}
