import { describe, expect, it } from 'vitest';
import { SLO_LATENCY_KEYS, formatSlo, type Slo } from '../../src/vocabulary/slo.js';
import { parseSloText } from '../../src/scenario/slo.js';

describe('SLO text', () => {
  it('reads back what it writes, for every latency key (one table of labels for both directions)', () => {
    const slo: Slo = { max_error_rate: 0.025 };
    SLO_LATENCY_KEYS.forEach((k, i) => (slo[k] = 10 * (i + 1)));
    const text = formatSlo(slo);
    expect(text).toBe('p50<10ms, p90<20ms, p99<30ms, p99.9<40ms, max<50ms, errors<2.5%');
    expect(parseSloText(text)).toEqual(slo);
  });

  it('also reads p999, the way the mapping spells the key', () => {
    expect(parseSloText('p999<40ms')).toEqual({ p999_ms: 40, max_error_rate: 0.01 });
  });
});
