/**
 * How each part of the decomposition is drawn, in the dashboard and the HTML report alike: a letter (so bars read
 * without colour, in a monochrome terminal or a screen capture) on a background colour. In the terminal, letters are
 * black on light backgrounds, both set explicitly, so the bars read the same on dark and light themes (only the
 * default colours change with the theme). `hex` is that terminal colour as xterm's default palette draws it, so a
 * chart in the HTML report and the dashboard's bar show a part in the same colour.
 */
import type { PartName } from './parts.js';

export const PART_STYLE: Record<PartName, { mark: string; bg: string; hex: string }> = {
  send_wait: { mark: 'w', bg: 'light-magenta', hex: '#ff00ff' },
  accept_queue: { mark: 'a', bg: 'light-red', hex: '#ff0000' },
  server_queue: { mark: 'q', bg: 'light-yellow', hex: '#ffff00' },
  parse: { mark: 'p', bg: 'light-cyan', hex: '#00ffff' },
  process: { mark: 'c', bg: 'cyan', hex: '#00cdcd' },
  downstream: { mark: 'd', bg: 'light-blue', hex: '#5c5cff' },
  transform: { mark: 't', bg: 'light-green', hex: '#00ff00' },
  send: { mark: 's', bg: 'green', hex: '#00cd00' },
  network: { mark: 'n', bg: 'magenta', hex: '#cd00cd' },
  unmeasured: { mark: '?', bg: 'white', hex: '#e5e5e5' },
};
