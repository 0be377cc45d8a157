/** blessed-contrib's line chart, loaded from its own file: only the dashboard bench uses it, to time it against ours. */
declare module 'blessed-contrib/lib/widget/charts/line.js' {
  import type { Widgets } from 'blessed';

  interface LineSeries {
    title: string;
    x: string[];
    y: number[];
    style?: { line?: string };
  }
  function line(options: Record<string, unknown>): Widgets.BoxElement & { setData(data: LineSeries[]): void };
  export = line;
}
