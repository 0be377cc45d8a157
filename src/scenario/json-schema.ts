/**
 * The scenario schema as JSON Schema (draft 2020-12), generated from the zod schema so the two cannot disagree.
 * Editors use the committed copy, schemas/scenario.schema.json (a test fails when it is stale); regenerate it with
 * `srvlens validate --print-schema > schemas/scenario.schema.json`. It describes what may be written (defaults
 * as `default`), so rules that span fields (unique server names, max_ms >= min_ms) are checked by srvlens only.
 */
import { z } from 'zod';
import { ScenarioSchema } from './schema.js';

export function scenarioJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(ScenarioSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { $schema: generated.$schema, title: 'srvlens scenario', ...generated };
}

/** The committed file's exact text. */
export function scenarioJsonSchemaText(): string {
  return `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
}
