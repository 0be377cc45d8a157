/**
 * A Vega-Lite chart rendered to SVG in Node: no browser, no canvas, no network. Vega measures text by estimate where
 * no canvas is installed, which is why every chart sets one plain font: the estimate is made for it.
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Shared look: one font, axes and legends labelled in the page's text colour, a transparent background. */
const CONFIG = {
  font: 'Helvetica, Arial, sans-serif',
  background: 'white',
  padding: 8,
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', gridColor: '#e4e4e4' },
  legend: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: 'normal', labelLimit: 220 },
  // A title or subtitle longer than the plot is cut with an ellipsis rather than widening the chart.
  title: { fontSize: 14, fontWeight: 'bold', anchor: 'start', subtitleFontSize: 11, subtitleColor: '#555', limit: 560 },
  view: { stroke: '#ccc' },
} as const;

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vega = compile({ ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec).spec;
  const view = new View(parse(vega), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
