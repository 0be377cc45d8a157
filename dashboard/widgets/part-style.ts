/**
 * How each part of the decomposition is drawn: a letter (so bars read without colour, in a monochrome terminal or a
 * screen capture) on a background colour. Letters are black on light backgrounds, both set explicitly, so the bars
 * read the same on dark and light terminal themes (only the default colours change with the theme).
 */
import type { PartName } from '../../src/vocabulary/index.js';

export const PART_STYLE: Record<PartName, { mark: string; bg: string }> = {
  send_wait: { mark: 'w', bg: 'light-magenta' },
  accept_queue: { mark: 'a', bg: 'light-red' },
  server_queue: { mark: 'q', bg: 'light-yellow' },
  parse: { mark: 'p', bg: 'light-cyan' },
  process: { mark: 'c', bg: 'cyan' },
  downstream: { mark: 'd', bg: 'light-blue' },
  transform: { mark: 't', bg: 'light-green' },
  send: { mark: 's', bg: 'green' },
  network: { mark: 'n', bg: 'magenta' },
  unmeasured: { mark: '?', bg: 'white' },
};
