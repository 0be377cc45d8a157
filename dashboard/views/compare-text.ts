/**
 * The Compare view's two tables as tagged text: one line per server with its figures and its decomposition bar (all
 * bars on one scale, so their lengths compare), then the parts in ms per request, one column per part.
 */
import { PART_NAMES } from '../../src/vocabulary/index.js';
import { barMs, type ComparePanel, type CompareRow } from '../panels/compare.js';
import { fit, fmtMs, num, numIn } from '../widgets/format.js';
import { stackedBar } from '../widgets/stacked-bar.js';
import { flow, partMark, type LegendItem } from '../widgets/legend.js';
import { alert, bold, esc } from '../widgets/tags.js';

/** Numbers in these columns carry their unit in the header, as the text report's tables do. */
const COLUMNS = [
  { head: 'req/s', w: 7, get: (r: CompareRow) => (r.achieved_rps === null ? '-' : r.achieved_rps.toFixed(0)) },
  { head: 'p99 ms', w: 8, get: (r: CompareRow) => (r.p99_ms === null ? '-' : num(r.p99_ms)) },
  { head: 'CPU ms/req', w: 11, get: (r: CompareRow) => (r.cpu_ms_per_request === null ? '-' : num(r.cpu_ms_per_request)) },
  { head: 'cs/req', w: 7, get: (r: CompareRow) => (r.cs_per_request ? num(r.cs_per_request.voluntary + r.cs_per_request.involuntary) : '-') },
];
const MIN_BAR = 12;

function nameWidth(d: ComparePanel): number {
  // 'server' and a space, at least: the header's columns must not run together.
  return Math.min(16, Math.max(7, ...d.rows.map((r) => r.server.length + 2)));
}

export function compareLines(d: ComparePanel, width: number): string[] {
  const nameW = nameWidth(d);
  const fixed = nameW + COLUMNS.reduce((s, c) => s + c.w, 0);
  // The model's column only where the bar keeps its minimum: at 80 columns the bars say more (tab shows each model).
  // Around the bar: two spaces before it, the mean (8 columns) and ' !' (saturated) after it.
  const modelW = width - fixed - MIN_BAR - 12 >= 14 ? 14 : 0;
  const barW = Math.max(0, width - fixed - modelW - 12);
  const head =
    fit('server', nameW) + (modelW ? fit('model', modelW) : '') + COLUMNS.map((c) => fit(c.head, c.w, 'right')).join('') + '  ' + fit('ms/req, one scale', barW + 7);
  const lines = [bold(head)];
  for (const r of d.rows) {
    // A space after the name always: a name as long as the column must not run into the model.
    const name = fit(`${r.current ? '>' : ' '}${r.server}`, nameW - 1) + ' ';
    const model = modelW ? fit(r.model, modelW) : '';
    if (r.missing) {
      lines.push(esc(name + model) + `  ${r.missing}`);
      continue;
    }
    const figures = COLUMNS.map((c) => fit(c.get(r), c.w, 'right')).join('');
    const bar = stackedBar(r.parts.map((p) => ({ part: p.part, ms: barMs(p.ms) })), barW, d.scale_ms);
    const total = fit(fmtMs(r.mean_ms), 8, 'right');
    lines.push(`${r.current ? bold(esc(name)) : esc(name)}${esc(model)}${figures}  ${bar}${total}${r.generator_saturated ? ` ${alert('!')}` : ''}`);
  }
  return lines;
}

/** The legend under the bars: each part's letter and colour. */
export function legendLines(width: number, saturated: boolean): string[] {
  const items: LegendItem[] = PART_NAMES.map((part) => ({ part, text: part }));
  if (saturated) items.push({ part: null, text: '! generator saturated', tagged: `${alert('!')} generator saturated` });
  return flow(items, width, 2);
}

/** Each part in ms per request, by server: the numbers behind the bars. */
export function partLines(d: ComparePanel, width: number): string[] {
  const nameW = nameWidth(d);
  const colW = Math.max(6, Math.min(14, Math.floor((width - nameW) / PART_NAMES.length)));
  // Column heads are the parts' letters on their colours, as in the bars above; whole names where they fit.
  const head = fit('', nameW) + PART_NAMES.map((p) => ' '.repeat(colW - 1 - (colW >= 14 ? p.length + 1 : 0)) + partMark(p) + (colW >= 14 ? ` ${p}` : '')).join('');
  const lines = [head];
  for (const r of d.rows) {
    if (r.missing) continue;
    lines.push(esc(fit(` ${r.server}`, nameW - 1) + ' ') + r.parts.map((p) => fit(p.ms === null ? '-' : numIn(p.ms, colW - 1), colW - 1, 'right').padStart(colW)).join(''));
  }
  return lines;
}
