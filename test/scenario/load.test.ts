import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../../src/scenario/errors.js';
import { loadScenario, parseScenario } from '../../src/scenario/read-scenario.js';
import { phaseDurationS, serverWorkload } from '../../src/scenario/schema.js';

/** A valid scenario; each test breaks one thing in it. Line numbers below refer to this text. */
const VALID = `name: demo
servers:
  - name: loop
    model: event-loop
load:
  phases:
    - { name: light, rate: 200, duration_s: 8 }
    - { name: steps, kind: step, rates: [100, 300], step_s: 4 }
`;

function errorOf(text: string, file = 'demo.yaml'): ScenarioError {
  try {
    parseScenario(text, file);
  } catch (err) {
    if (err instanceof ScenarioError) return err;
    throw err;
  }
  throw new Error('expected a ScenarioError, but the scenario parsed');
}

describe('loadScenario', () => {
  it('loads the quickstart with defaults applied', () => {
    const s = loadScenario('scenarios/quickstart.yaml');
    expect(s.name).toBe('quickstart');
    expect(s.interval_ms).toBe(1000);
    expect(s.workload).toEqual({ parse_us: 50, process_us: 500, transform_us: 100, backend_calls: 1, response_bytes: 1024 });
    expect(s.backend).toEqual({ latency: { dist: 'fixed', ms: 5 }, limit: 64 });
    expect(s.servers).toEqual([{ name: 'event-loop', model: 'event-loop', size: {}, workload: {} }]);
    expect(s.load).toMatchObject({ connections: 32, timeout_ms: 5000, path: '/' });
    expect(s.load.phases.map((p) => p.kind)).toEqual(['constant', 'constant']);
    // It must finish under 30 s in all, startup of the backend, server and generator included.
    const loadSeconds = s.servers.length * s.load.phases.reduce((t, p) => t + phaseDurationS(p), 0);
    expect(loadSeconds).toBeLessThanOrEqual(20);
  });

  it('says which file is missing', () => {
    expect(() => loadScenario('test/scenario/no-such.yaml')).toThrow(
      expect.objectContaining({ code: 'SCENARIO_NOT_FOUND', file: 'test/scenario/no-such.yaml', message: expect.stringContaining('not found: test/scenario/no-such.yaml') }),
    );
  });
});

describe('parseScenario', () => {
  it('applies defaults to a minimal scenario', () => {
    const s = parseScenario(VALID, 'demo.yaml');
    expect(s.description).toBe('');
    expect(s.interval_ms).toBe(1000);
    expect(s.workload).toEqual({ parse_us: 50, process_us: 500, transform_us: 100, backend_calls: 1, response_bytes: 1024 });
    expect(s.backend).toEqual({ latency: { dist: 'fixed', ms: 5 }, limit: 64 });
    expect(s.load).toMatchObject({ connections: 32, timeout_ms: 5000, path: '/' });
    expect(s.load).toMatchObject({ connection: 'keep-alive', seed: 1, idle_connections: 0, threads: 'auto' });
    expect(s.load.mix).toBeUndefined();
    expect(s.slo).toBeUndefined();
    expect(s.load.phases[0]).toEqual({ kind: 'constant', name: 'light', rate: 200, duration_s: 8, warmup_s: 0, arrivals: 'even' });
    expect(s.load.phases[1]).toEqual({ kind: 'step', name: 'steps', rates: [100, 300], step_s: 4, warmup_s: 0, arrivals: 'even' });
  });

  it("lays a server's workload overrides over the scenario's workload", () => {
    const s = parseScenario(VALID.replace('    model: event-loop\n', '    model: event-loop\n    workload: { process_us: 2000 }\n'), 'demo.yaml');
    expect(serverWorkload(s, s.servers[0])).toEqual({ parse_us: 50, process_us: 2000, transform_us: 100, backend_calls: 1, response_bytes: 1024 });
  });

  it('locates a wrong type at its value and says what was written', () => {
    const err = errorOf(VALID.replace('rate: 200', 'rate: fast'), 'quickstart.yaml');
    expect(err.code).toBe('SCENARIO_INVALID');
    expect(err.file).toBe('quickstart.yaml');
    expect(err.problems).toEqual([
      { line: 7, column: 28, path: 'load.phases[0].rate', message: 'expected a number greater than 0 and at most 1000000, got "fast"' },
    ]);
    expect(err.message).toBe('quickstart.yaml:7:28: load.phases[0].rate: expected a number greater than 0 and at most 1000000, got "fast"');
  });

  it('rejects an unknown key at the key, suggesting the likely one', () => {
    const err = errorOf(VALID.replace('step_s: 4', 'step_secs: 4'));
    // The missing step_s is the same mistake, so it is not reported twice.
    expect(err.message).toBe('demo.yaml:8:53: load.phases[1].step_secs: unknown key; did you mean "step_s"?');
  });

  it('lists the allowed keys for an unknown key unlike any of them', () => {
    const err = errorOf(`${VALID}objective: { p99_ms: 20 }\n`);
    expect(err.message).toBe(
      'demo.yaml:9:1: objective: unknown key; expected one of: name, description, interval_ms, workload, backend, servers, load, slo, capacity, record',
    );
  });

  it('locates a missing required field at its parent', () => {
    const err = errorOf(VALID.replace('    model: event-loop\n', ''));
    expect(err.problems).toEqual([
      { line: 3, column: 5, path: 'servers[0].model', message: expect.stringMatching(/^missing, expected one of "iterative", .*"hybrid"$/) },
    ]);
    expect(err.message).toMatch(/^demo\.yaml:3:5: servers\[0\]\.model: missing, expected one of/);
  });

  it('reports bad YAML with its line', () => {
    const err = errorOf(VALID.replace('rates: [100, 300]', 'rates: [100, 300'));
    expect(err.problems.length).toBeGreaterThan(0);
    expect(err.problems[0]).toMatchObject({ line: 8, path: '' });
    expect(err.message).toMatch(/^demo\.yaml:8:\d+: YAML: .*\]/);
  });

  it('rejects a duplicate server name at the second one, along with other mistakes', () => {
    const text = VALID.replace('load:', '  - name: loop\n    model: evnt-loop\nload:');
    const err = errorOf(text);
    expect(err.message.split('\n')).toEqual([
      'demo.yaml:5:11: servers[1].name: duplicate server name "loop", also used by servers[0]',
      expect.stringMatching(/^demo\.yaml:6:12: servers\[1\]\.model: expected one of .*, got "evnt-loop"; did you mean "event-loop"\?$/),
    ]);
  });

  it('reports every problem, in file order, one line each', () => {
    const text = `name: Demo
interval_ms: 50
servers: []
load:
  phases:
    - { name: a, rate: 0, duration_s: 8 }
backend:
  latency: { dist: uniform, min_ms: 5, max_ms: 2 }
`;
    expect(errorOf(text).message).toBe(
      [
        'demo.yaml:1:7: name: expected a name of lowercase letters, digits and "-", got "Demo"',
        'demo.yaml:2:14: interval_ms: expected an integer from 100 to 60000, got 50',
        'demo.yaml:3:10: servers: expected a list of at least one server, got an empty list',
        'demo.yaml:6:24: load.phases[0].rate: expected a number greater than 0 and at most 1000000, got 0',
        'demo.yaml:8:48: backend.latency.max_ms: expected a number of at least min_ms (5), got 2',
      ].join('\n'),
    );
  });

  it('says what a scenario is when the file holds something else', () => {
    expect(errorOf('').message).toBe('demo.yaml:1:1: expected a mapping with name, servers and load, got nothing');
    expect(errorOf('- a\n').message).toBe('demo.yaml:1:1: expected a mapping with name, servers and load, got a list of 1 item');
  });
});

describe('the load language', () => {
  it('reads ramps, Poisson arrivals, closed loops and warm-ups, and counts warm-ups in a phase\'s length', () => {
    const s = parseScenario(
      VALID.replace(
        '    - { name: steps, kind: step, rates: [100, 300], step_s: 4 }\n',
        '    - { name: up, kind: ramp, from: 0, to: 500, duration_s: 10, warmup_s: 2, arrivals: poisson }\n    - { name: users, kind: closed, users: 20, think_ms: 100, duration_s: 5 }\n',
      ),
      'demo.yaml',
    );
    expect(s.load.phases[1]).toEqual({ kind: 'ramp', name: 'up', from: 0, to: 500, duration_s: 10, warmup_s: 2, arrivals: 'poisson' });
    expect(s.load.phases[2]).toEqual({ kind: 'closed', name: 'users', users: 20, think_ms: 100, think: 'fixed', duration_s: 5, warmup_s: 0 });
    expect(s.load.phases.map(phaseDurationS)).toEqual([8, 12, 5]);
  });

  it('reads connection modes, a mix, slow and idle clients, threads and a seed', () => {
    const s = parseScenario(
      VALID.replace(
        'load:\n',
        `load:
  connection: new
  seed: 9
  threads: 2
  idle_connections: 1000
  slow_clients: { connections: 10, trickle_ms: 2000 }
  mix:
    - { name: cheap, weight: 3 }
    - { name: costly, path: /report, workload: { process_us: 20000 } }
`,
      ),
      'demo.yaml',
    );
    expect(s.load).toMatchObject({ connection: 'new', seed: 9, threads: 2, idle_connections: 1000, slow_clients: { connections: 10, trickle_ms: 2000, chunks: 10 } });
    expect(s.load.mix).toEqual([
      { name: 'cheap', weight: 3, workload: {} },
      { name: 'costly', weight: 1, path: '/report', workload: { process_us: 20000 } },
    ]);
  });

  it('rejects a misspelt workload field in a mix entry, suggesting the right one', () => {
    const text = VALID.replace('load:\n', 'load:\n  mix:\n    - { name: a, workload: { proces_us: 5 } }\n');
    expect(errorOf(text).message).toBe('demo.yaml:7:30: load.mix[0].workload.proces_us: unknown key; did you mean "process_us"?');
  });
});

describe('the SLO', () => {
  it('reads the text form and the mapping form into the same thing', () => {
    const text = parseScenario(`${VALID}slo: "p99<100ms, p50 <= 0.02s and errors<0.5%"\n`, 'demo.yaml');
    expect(text.slo).toEqual({ p99_ms: 100, p50_ms: 20, max_error_rate: 0.005 });
    const mapping = parseScenario(`${VALID}slo: { p99_ms: 100 }\n`, 'demo.yaml');
    expect(mapping.slo).toEqual({ p99_ms: 100, max_error_rate: 0.01 });
  });

  it('says what an SLO looks like when it cannot read one', () => {
    expect(errorOf(`${VALID}slo: "fast please"\n`).message).toBe(
      'demo.yaml:9:6: slo: expected an SLO such as "p99<100ms, errors<1%" (each term is p50, p90, p99, p99.9, max or errors, then "<" and a limit), got "fast please"',
    );
    expect(errorOf(`${VALID}slo: "p99<100"\n`).message).toContain('"p99<100": give the latency a unit (us, ms or s)');
    expect(errorOf(`${VALID}slo: { max_error_rate: 0.1 }\n`).message).toBe(
      'demo.yaml:9:6: slo: expected at least one latency limit: p50_ms, p90_ms, p99_ms, p999_ms, max_ms, got a mapping',
    );
  });
});
