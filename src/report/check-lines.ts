/**
 * The report's self-checks as text: a `check:` line for each check that failed, under the phase's figures, and one
 * line saying how many held, failed and could not be taken (the JSON report says why for each).
 */
import type { Check } from '../analysis/self-checks.js';

export function checkLines(phases: readonly { name: string; checks: Check[] }[]): string[] {
  const all = phases.flatMap((p) => p.checks);
  if (all.length === 0) return [];
  const out: string[] = [];
  for (const p of phases) for (const c of p.checks) if (c.ok === false) out.push(`check: ${p.name}: ${c.id} FAILED: ${c.detail}`);
  const held = all.filter((c) => c.ok === true).length;
  const failed = all.filter((c) => c.ok === false).length;
  const untaken = all.length - held - failed;
  out.push(`checks: ${held} held, ${failed} failed${untaken ? `, ${untaken} not taken (--format json says why)` : ''}`);
  return out;
}
