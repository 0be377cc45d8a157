/** The keys, and how to read the screens, over whichever view is showing. */
import blessed from 'blessed';
import { PART_NAMES, PART_STYLE } from '../../src/vocabulary/index.js';
import { wrapWords } from '../widgets/format.js';
import { borderColour, esc } from '../widgets/tags.js';
import { PHASE_WINDOW } from '../state/windows.js';

const KEYS: [string, string][] = [
  ['space', 'pause / play (replay)'],
  ['left / right', 'one interval back / forward (replay)'],
  ['home / end', 'first / last interval (replay)'],
  ['+ / -', 'play faster / slower (replay)'],
  ['tab', 'next server'],
  ['c', 'Compare view / Run view'],
  ['k', 'Capacity view: achieved, p99 against offered load / Run view'],
  ['t', 'Over time: throughput, p99, the parts over the run / Run view'],
  ['h or ?', 'this help (any key closes it)'],
  ['q', 'quit (live: stops the run, keeps the recording)'],
];


/** `notes`: anything else the user should know, e.g. where a damaged recording stops. */
export function helpOverlay(screen: blessed.Widgets.Screen, notes: readonly string[]): blessed.Widgets.BoxElement {
  // Within 80x24, a damaged recording's note included: 76 columns of text, 22 lines at most.
  const W = 76;
  const parts = PART_NAMES.map((p) => `${PART_STYLE[p].mark}=${p}`).join(' ');
  const lines = [
    ...KEYS.map(([k, what]) => `  ${k.padEnd(13)} ${what}`),
    '',
    ...wrapWords(`parts: ${parts}`, W, '  ', '  '),
    ...wrapWords('latency: from the intended send; ! the generator fell behind its schedule', W, '  ', '  '),
    ...wrapWords(`phase figures: its last ${PHASE_WINDOW} intervals at most; [check failed: ...]: they disagree with the host, the client, Little's law or the clock`, W, '  ', '  '),
    ...wrapWords('charts: a line ends in its letter (servers by number, o offered, a achieved); ┊ a phase begins; capacity: a point per phase', W, '  ', '  '),
    ...notes.flatMap((n) => wrapWords(n, W, '  ', '  ')),
  ];
  return blessed.box({
    parent: screen,
    top: 'center',
    left: 'center',
    width: W + 4,
    height: lines.length + 2,
    label: ' srvlens help: keys ',
    tags: true,
    border: { type: 'line' },
    style: { border: { fg: borderColour() } },
    content: lines.map(esc).join('\n'),
    hidden: true,
  });
}
