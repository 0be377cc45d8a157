/**
 * What `srvlens replay` does before its first picture, in a process of its own so that its peak memory is its own:
 * index the recording (RecordingIndex.open) and read the first run's first frames, as the Run view's first draw
 * does. Prints { ms, peakRssMb, frames } as JSON. Started by bench/recording-rate.ts.
 */
import { readFileSync } from 'node:fs';
import { RecordingIndex } from '../../dashboard/state/recording-index.js';

/** Frames the first view reads: a chart window's worth. */
const FIRST_FRAMES = 60;

const path = process.argv[2];
const t0 = performance.now();
const index = await RecordingIndex.open(path);
const first = index.runs()[0];
const frames = await index.frames(0, 0, Math.min(FIRST_FRAMES, first?.frames ?? 0));
const ms = performance.now() - t0;
await index.close();
// VmHWM: the process's peak resident set, node's own start included.
const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
process.stdout.write(`${JSON.stringify({ ms, peakRssMb: hwm / 1024, frames: frames.length, runs: index.runs().length })}\n`);
