import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { scenarioJsonSchema, scenarioJsonSchemaText } from '../../src/scenario/json-schema.js';

const COMMITTED = new URL('../../schemas/scenario.schema.json', import.meta.url);

describe('schemas/scenario.schema.json', () => {
  it('is what the zod schema generates (regenerate: srvlens validate --print-schema > schemas/scenario.schema.json)', () => {
    expect(readFileSync(COMMITTED, 'utf8')).toBe(scenarioJsonSchemaText());
  });

  it('carries the descriptions and defaults editors show, and rejects unknown keys', () => {
    const schema = scenarioJsonSchema() as { additionalProperties: boolean; properties: Record<string, any> };
    expect(schema.additionalProperties).toBe(false);
    const load = schema.properties.load;
    expect(load.additionalProperties).toBe(false);
    expect(load.properties.connections).toMatchObject({ default: 32, description: expect.stringContaining('(default 32)') });
    const kinds = load.properties.phases.items.oneOf.map((p: any) => p.properties.kind.const);
    expect(kinds).toEqual(['constant', 'step', 'ramp', 'closed']);
    // The SLO may be written as text or as a mapping.
    expect(schema.properties.slo.anyOf.map((b: any) => b.type)).toEqual(['string', 'object']);
  });
});
