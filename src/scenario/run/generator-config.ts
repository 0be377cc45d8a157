/**
 * The generator's config for one server run of a scenario: everything in `load`, with the interval of the run.
 * The one place that maps the scenario language onto the generator (src/load/config.ts).
 */
import type { GeneratorConfig } from '../../load/config.js';
import type { Scenario } from '../schema.js';

export function generatorConfig(scenario: Scenario, target: { host: string; port: number }): GeneratorConfig {
  const load = scenario.load;
  return {
    target,
    request: { method: 'GET', path: load.path },
    connections: load.connections,
    timeout_ms: load.timeout_ms,
    interval_ms: scenario.interval_ms,
    phases: load.phases,
    connection: load.connection,
    seed: load.seed,
    threads: load.threads,
    ...(load.mix ? { mix: load.mix.map((m) => ({ name: m.name, weight: m.weight, path: m.path, workload: definedNumbers(m.workload) })) } : {}),
    ...(load.slow_clients ? { slow_clients: load.slow_clients } : {}),
    ...(load.idle_connections > 0 ? { idle_connections: load.idle_connections } : {}),
  };
}

function definedNumbers(o: Record<string, number | undefined>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).filter((e): e is [string, number] => e[1] !== undefined));
}
