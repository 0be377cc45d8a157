/**
 * The Run view's diagnosis, once the server's run has a knee: what the report concludes (run-summary.ts), the
 * figures first (knee, peak, what gave out), then its words, cut to the box with a pointer to the whole.
 */
import type { RunSummary } from '../../src/analysis/run-summary.js';
import { LIMIT_CAUSE_MEANING } from '../../src/vocabulary/index.js';
import { fmtRps, wrapWords } from '../widgets/format.js';
import { bold, esc } from '../widgets/tags.js';

export const diagnosisLabel = (s: RunSummary) => ` diagnosis over the finished phases${s.slo ? `, SLO ${s.slo}` : ''} (k: capacity) `;

/** Null until the run has a knee: before it, the run has not shown where it stops following the load. */
export function diagnosisLines(s: RunSummary | null, width: number, height: number): string[] | null {
  if (!s || s.knee_rps === null || height <= 0) return null;
  // What gave out, in its meaning's words, before the diagnosis's own: at 80x24 there are two lines for all of it.
  const head = `knee ${fmtRps(s.knee_rps)} offered${s.knee_phase ? ` (${s.knee_phase})` : ''}, peak ${fmtRps(s.peak_rps)}; gave out: ${s.limited_by}, ${LIMIT_CAUSE_MEANING[s.limited_by]}.`;
  const words = wrapWords(`${head} ${s.diagnosis}`, width, '', '');
  const lines = words.length > height ? [...words.slice(0, height - 1), cut(words[height - 1], width)] : words;
  // The first line in bold: it holds the figures, what the eye looks for first.
  return lines.map((l, i) => (i === 0 ? bold(esc(l)) : esc(l)));
}

/** The last line shown, ending in a note that there is more (srvlens report prints it whole). */
function cut(line: string, width: number): string {
  const more = ' ... (srvlens report: all of it)';
  return line.length + more.length <= width ? line + more : `${line.slice(0, Math.max(0, width - more.length))}${more}`.slice(0, width);
}
