/**
 * The scenario as a recording's header keeps it. A recording is made to be sent (to a colleague, into an issue), so
 * what may be secret is left out unless the scenario's `record` asks for it: external servers' env values (API keys,
 * database passwords are put there) become "<redacted>", names kept; query strings of the paths the load and the
 * ready probe ask for become "?<redacted>". The run itself uses the scenario as written.
 */
import { REDACTED, withoutQuery } from '../../vocabulary/redact.js';
import type { Scenario } from '../schema.js';

export function recordedScenario(scenario: Scenario): Scenario {
  const keepEnv = scenario.record?.env === true;
  const keepQuery = scenario.record?.query_strings === true;
  const path = keepQuery ? (p: string) => p : withoutQuery;
  const servers = scenario.servers.map((s) => ({
    ...s,
    ...(s.env !== undefined && !keepEnv ? { env: Object.fromEntries(Object.keys(s.env).map((k) => [k, REDACTED])) } : {}),
    ...(s.ready?.http !== undefined ? { ready: { ...s.ready, http: path(s.ready.http) } } : {}),
  }));
  const mix = scenario.load.mix?.map((m) => (m.path === undefined ? m : { ...m, path: path(m.path) }));
  return { ...scenario, servers, load: { ...scenario.load, path: path(scenario.load.path), ...(mix ? { mix } : {}) } };
}
