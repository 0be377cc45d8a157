/**
 * The README's "Performance" section is the suite's output: between two marker comments, rewritten whole from
 * bench-results.json (date, machine, command, the table). Created before "## Layout" where it is absent.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import type { HostFacts } from '../../src/vocabulary/index.js';
import type { Figure } from './figures.js';
import { markdownTable, tally } from './table.js';

export interface SuiteResults {
  date: string;
  command: string;
  quick: boolean;
  seconds: number;
  machine: HostFacts;
  benches: { id: string; seconds: number }[];
  figures: Figure[];
}

export const BEGIN = '<!-- bench-results: written by `npm run bench -- --readme`; edits here are overwritten -->';
export const END = '<!-- /bench-results -->';
const HEADING = '## Performance';
/** The section goes before this heading when the README has none. */
const BEFORE = '## Layout';

export function readResults(path: string): SuiteResults {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new Error(`${path}: no bench results to write the README from: run npm run bench (-- --quick) first`);
  }
  return JSON.parse(text) as SuiteResults;
}

export function performanceSection(r: SuiteResults, resultsFile: string): string {
  const m = r.machine;
  const machine = [`${m.cpu_model}, ${m.cpus} cores`, m.virtual ? `virtual (${m.virtual})` : null, m.os, `kernel ${m.kernel}`, `Node ${m.node}`].filter(Boolean).join(', ');
  return [
    BEGIN,
    `Measured ${r.date.slice(0, 16).replace('T', ' ')} UTC with \`${r.command}\` (${Math.round(r.seconds / 60)} min${r.quick ? ', the quick run: fewer rounds, shorter trials' : ''}) on ${machine};`,
    `the whole result is in \`${resultsFile}\`. Each figure is a median over rounds, its spread min..max over them (p10..p90 over`,
    'renders for frame times); throughput costs and rates are ratios against a baseline run in the same go (bench/README.md says',
    'how each is measured). The machine is shared and noisy: read the spread beside the median.',
    '',
    markdownTable(r.figures).trimEnd(),
    '',
    `${tally(r.figures)}.`,
    END,
  ].join('\n');
}

/** The README with its Performance section replaced (or added), from `r`. */
export function withPerformance(readme: string, r: SuiteResults, resultsFile: string): string {
  const section = performanceSection(r, resultsFile);
  const [b, e] = [readme.indexOf(BEGIN), readme.indexOf(END)];
  if (b >= 0 && e > b) return readme.slice(0, b) + section + readme.slice(e + END.length);
  const block = `${HEADING}\n\n${section}\n\n`;
  const at = readme.indexOf(`\n${BEFORE}\n`);
  return at >= 0 ? readme.slice(0, at + 1) + block + readme.slice(at + 1) : `${readme.trimEnd()}\n\n${block}`;
}

export function updateReadme(readmePath: string, r: SuiteResults, resultsPath: string): void {
  const resultsFile = relative(dirname(readmePath), resultsPath);
  writeFileSync(readmePath, withPerformance(readFileSync(readmePath, 'utf8'), r, resultsFile));
}
