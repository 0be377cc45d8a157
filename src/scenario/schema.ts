/**
 * The scenario file (ARCHITECTURE section 6): which servers to compare, the workload they run, the backend tier
 * behind them, the load phases, the SLO and how a capacity search goes about it; its parts are in schema/, by
 * concern. Every object is strict so that a misspelt key is an error, not a silent default.
 *
 * Messages of the form "expected ..." get ", got <value>" appended by the loader (read-scenario.ts), which knows
 * the value as written.
 */
import { z } from 'zod';
import { LoadSchema } from './schema/load.js';
import { int, name, nonNegativeNumber, positiveNumber } from './schema/rules.js';
import { ServerSchema } from './schema/servers.js';
import { BackendSchema, WorkloadSchema } from './schema/workload.js';
import { SloSchema } from './slo.js';
import { MAX_DURATION_S, MAX_RATE_RPS } from './schema/limits.js';
import { DEFAULT_INTERVAL_MS, MAX_INTERVAL_MS, MIN_INTERVAL_MS } from '../vocabulary/intervals.js';
import { REDACTED } from '../vocabulary/redact.js';

const Capacity = z
  .strictObject({
    start_rps: positiveNumber(MAX_RATE_RPS).default(50).describe('Rate of the first probe, req/s (default 50)'),
    max_rps: positiveNumber(MAX_RATE_RPS).default(100_000).describe('Highest rate probed, req/s (default 100000)'),
    step_factor: z
      .number({ error: 'expected a number greater than 1' })
      .gt(1, { error: 'expected a number greater than 1' })
      .default(2)
      .describe('Each step up multiplies the rate by this (default 2)'),
    probe_s: positiveNumber(MAX_DURATION_S).default(5).describe('Measured length of each probe, s (default 5)'),
    warmup_s: nonNegativeNumber(MAX_DURATION_S).default(1).describe('Warm-up before each probe, left out of its figures, s (default 1)'),
    confirm_s: positiveNumber(MAX_DURATION_S).default(15).describe('Measured length of the confirming probe at the rate found, s (default 15)'),
    precision: z
      .number({ error: 'expected a share from 0.01 to 0.5' })
      .min(0.01, { error: 'expected a share from 0.01 to 0.5' })
      .max(0.5, { error: 'expected a share from 0.01 to 0.5' })
      .default(0.05)
      .describe('Bisection stops when the highest passing and lowest failing rates are this close, relative (default 0.05)'),
    max_seconds: positiveNumber(MAX_DURATION_S).default(600).describe('Time budget of the whole search, s; --max-seconds overrides (default 600)'),
  })
  .describe('How `srvlens capacity` searches for the highest sustainable rate (all fields have defaults)');

const BOOLEAN_RULE = 'expected true or false';

const RecordSettings = z
  .strictObject({
    env: z
      .boolean({ error: BOOLEAN_RULE })
      .default(false)
      .describe(`Keep external servers' env values in the recording's header (default false: each value is "${REDACTED}", its name kept)`),
    query_strings: z
      .boolean({ error: BOOLEAN_RULE })
      .default(false)
      .describe(`Keep the query strings of load.path, the mix's paths and ready.http in the recording's header (default false: "?${REDACTED}")`),
  })
  .describe("What may be secret that the recording's header keeps of the scenario, recordings being made to be shared (default: neither)");

export const ScenarioSchema = z
  .strictObject(
    {
      name: name().describe('Name of the scenario'),
      description: z.string().default('').describe('What the scenario shows (default "")'),
      interval_ms: int(MIN_INTERVAL_MS, MAX_INTERVAL_MS).default(DEFAULT_INTERVAL_MS).describe(`Length of one timeline frame, ms (default ${DEFAULT_INTERVAL_MS})`),
      // prefault: an absent section is parsed as {}, so the fields' own defaults fill it (one place for each default).
      workload: WorkloadSchema.prefault({}),
      backend: BackendSchema.prefault({}),
      servers: z
        .array(ServerSchema, { error: 'expected a list of servers' })
        .min(1, { error: 'expected a list of at least one server' })
        .superRefine(
          (servers, ctx) => {
            // Runs even when some server is invalid (see `when`), so the values are checked rather than trusted.
            const first = new Map<string, number>();
            (servers as unknown[]).forEach((s, i) => {
              const name = (s as { name?: unknown } | null)?.name;
              if (typeof name !== 'string') return;
              const j = first.get(name);
              if (j === undefined) first.set(name, i);
              else ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate server name "${name}", also used by servers[${j}]` });
            });
          },
          // A duplicate is worth reporting alongside other mistakes in the list, not only once they are fixed.
          { when: (payload) => Array.isArray(payload.value) },
        )
        .describe('Servers to compare, run one after another under the same load'),
      load: LoadSchema,
      slo: SloSchema.optional(),
      capacity: Capacity.optional(),
      record: RecordSettings.optional(),
    },
    { error: 'expected a mapping with name, servers and load' },
  )
  .describe('A srvlens scenario');

export type Scenario = z.output<typeof ScenarioSchema>;
export type ScenarioServer = Scenario['servers'][number];
export type Workload = Scenario['workload'];
export type Phase = Scenario['load']['phases'][number];
export type LatencyDistribution = Scenario['backend']['latency'];
export type CapacitySettings = z.output<typeof Capacity>;

/** The capacity search's settings with every default filled in. */
export function capacitySettings(scenario: Scenario): CapacitySettings {
  return Capacity.parse(scenario.capacity ?? {});
}

/** The workload a server runs: the scenario's, with the server's own overrides on top. */
export function serverWorkload(scenario: Scenario, server: ScenarioServer): Workload {
  return { ...scenario.workload, ...definedOnly(server.workload) };
}

/** How long a phase runs, s, its warm-up included. */
export function phaseDurationS(phase: Phase): number {
  return phase.warmup_s + (phase.kind === 'step' ? phase.rates.length * phase.step_s : phase.duration_s);
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
