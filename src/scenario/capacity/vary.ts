/**
 * `srvlens capacity --vary threads=4,8,16,32`: the scenario's servers that have that size, once per value, so the
 * search measures each size and the sweep's fit is checked against every one (analysis/sweep-predictions.ts).
 */
import { UserError } from '../../vocabulary/errors.js';
import type { Scenario, ScenarioServer } from '../schema.js';

export interface Vary {
  key: string;
  values: number[];
}

const VARY = /^([a-z_]+)=(\d+(?:,\d+)+)$/;

/** `threads=4,8,16` as a Vary, or a reason it is not one. */
export function parseVary(text: string): Vary | string {
  const m = VARY.exec(text.replace(/\s+/g, ''));
  if (!m) return 'expected a size and two or more values, such as threads=4,8,16,32';
  const values = [...new Set(m[2].split(',').map(Number))].sort((a, b) => a - b);
  if (values.some((v) => v < 1)) return 'sizes are whole numbers of 1 or more';
  if (values.length < 2) return 'a sweep needs two or more different sizes';
  return { key: m[1], values };
}

/** `cores` is no size of a model: it pins any reference server to its first N CPUs (the server's `cores:`). */
export const CORES_KEY = 'cores';

/**
 * The servers to search: each one that has `key` in its size (for `cores`: every reference server), once per value
 * (named `<name>-<key><value>`).
 */
export function varyServers(scenario: Scenario, vary: Vary, file: string): { base: ScenarioServer; value: number; server: ScenarioServer }[] {
  const cores = vary.key === CORES_KEY;
  const swept = scenario.servers.filter((s) => (cores ? s.command === undefined : s.size[vary.key] !== undefined));
  if (swept.length === 0) {
    throw new UserError(
      cores
        ? `${file}: no reference server to pin to cores (external servers are not pinned)`
        : `${file}: no server has a size \`${vary.key}\` to vary (give it in the server's size, e.g. size: { ${vary.key}: 8 }), or vary ${CORES_KEY}`,
      'SCENARIO_USAGE',
    );
  }
  return swept.flatMap((base) =>
    vary.values.map((value) => ({
      base,
      value,
      server: { ...base, name: `${base.name}-${vary.key}${value}`, ...(cores ? { cores: value } : { size: { ...base.size, [vary.key]: value } }) },
    })),
  );
}
