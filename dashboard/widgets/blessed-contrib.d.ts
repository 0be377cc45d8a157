/**
 * blessed-contrib ships no types. We use its grid only, loaded from its own file: the package index also loads the
 * map, picture and markdown widgets (about 200 ms of startup here) that the dashboard never shows.
 */
declare module 'blessed-contrib/lib/layout/grid.js' {
  import type { Widgets } from 'blessed';

  interface GridOptions {
    rows: number;
    cols: number;
    /** Anything with append(): the screen, a box, or what hands each cell's box on (views/view.ts). */
    screen: Pick<Widgets.Node, 'append'>;
    hideBorder?: boolean;
    color?: string;
    dashboardMargin?: number;
  }

  /** A rows x cols layout in percentages, so it follows the terminal's size; each cell gets a line border. */
  class Grid {
    constructor(options: GridOptions);
    set<T extends Widgets.Node, O extends object>(row: number, col: number, rowSpan: number, colSpan: number, factory: (options: O) => T, options: O): T;
  }
  export = Grid;
}
