/** The one widget most panels need: a bordered box of tagged text lines, cut to its inner size. */
import blessed from 'blessed';
import type Grid from 'blessed-contrib/lib/layout/grid.js';

export interface TextBox {
  box: blessed.Widgets.BoxElement;
  /** Inner size in cells (inside the border), as laid out for the current terminal size. */
  width(): number;
  height(): number;
  set(label: string, lines: readonly string[]): void;
}

export function textBox(grid: Grid, at: [row: number, col: number, rows: number, cols: number]): TextBox {
  const box = grid.set(at[0], at[1], at[2], at[3], blessed.box, { tags: true, wrap: false, label: '' });
  const width = () => Math.max(0, (box.width as number) - 2);
  const height = () => Math.max(0, (box.height as number) - 2);
  return {
    box,
    width,
    height,
    set(label, lines) {
      // The label sits on the top border: keep it within it, with room for the corners.
      box.setLabel(label.length > width() - 1 ? `${label.slice(0, Math.max(0, width() - 2))}~` : label);
      box.setContent(lines.slice(0, height()).join('\n'));
    },
  };
}
