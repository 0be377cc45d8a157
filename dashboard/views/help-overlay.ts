/** The keys, and how to read the screens, over whichever view is showing. */
import blessed from 'blessed';
import { PART_NAMES, PART_STYLE } from '../../src/vocabulary/index.js';
import { wrapWords } from '../widgets/format.js';
import { esc } from '../widgets/tags.js';
import { PHASE_WINDOW } from '../state/windows.js';

const KEYS: [string, string][] = [
  ['space', 'pause / play (replay)'],
  ['left / right', 'one interval back / forward (replay)'],
  ['home / end', 'first / last interval (replay)'],
  ['+ / -', 'play faster / slower (replay)'],
  ['tab', 'next server'],
  ['c', 'Compare view / Run view'],
  ['h or ?', 'this help (any key closes it)'],
  ['q', 'quit (live: stops the run, keeps the recording)'],
];


/** `notes`: anything else the user should know, e.g. where a damaged recording stops. */
export function helpOverlay(screen: blessed.Widgets.Screen, notes: readonly string[]): blessed.Widgets.BoxElement {
  const W = 68;
  const parts = PART_NAMES.map((p) => `${PART_STYLE[p].mark}=${p}`).join(' ');
  const lines = [
    ...KEYS.map(([k, what]) => `  ${k.padEnd(13)} ${what}`),
    '',
    ...wrapWords(`bars, one letter per part: ${parts}`, W, '  ', '  '),
    ...wrapWords('latency: from the intended send time (corrected for coordinated omission); ! marks intervals in which the generator could not keep its schedule.', W, '  ', '  '),
    ...wrapWords(`phase figures: the last ${PHASE_WINDOW} intervals of the phase at most.`, W, '  ', '  '),
    ...wrapWords('[check failed: ...]: the phase figures disagree with what they can be held against (the host\'s cores, the client\'s count, Little\'s law, the clock); `srvlens report` says how, per phase.', W, '  ', '  '),
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
    style: { border: { fg: 'blue' } },
    content: lines.map(esc).join('\n'),
    hidden: true,
  });
}
