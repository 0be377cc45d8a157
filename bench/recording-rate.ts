/**
 * Recordings at the size of a long run: a 1-hour, 9-server recording generated from the tour's (its nine servers,
 * each through its recorded steps and then held at its last step until it has an hour of intervals), written with
 * the RecordingWriter and read back with iterateRecording, each timed (records per second, MB per second of the
 * compressed file); its size per server-hour; and what `srvlens replay` pays to open it (RecordingIndex.open and the
 * first frame), timed and its peak memory read in a fresh process (bench/recording/replay-open.ts), since memory in
 * this one holds the generated frames. A measurement, not a test.
 *
 *   npm run build && node dist/bench/recording-rate.js [--rounds 3] [--seconds 3600] [--json]
 *
 * Targets (issue 18): replay opens it in <= 1 s with <= 200 MB; <= 10 MB per server-hour.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { iterateRecording, readRecording } from '../src/recording/reader.js';
import { RecordingWriter } from '../src/recording/writer.js';
import { PACKAGE_ROOT } from '../src/vocabulary/package-paths.js';
import { RECORDING_SCHEMA, type Frame, type RecordingRecord, type RunStart } from '../src/vocabulary/index.js';
import { benchFile } from './child-entries.js';
import { figure } from './suite/figures.js';
import type { SuiteJson } from './suite/specs.js';
import { textTable } from './suite/table.js';
import { benchArgs } from './cli.js';

const TOUR = join(PACKAGE_ROOT, 'test/report/fixtures/tour.srvlens.gz');
const MB = 2 ** 20;
/** The last steps a held server cycles through, so that the held hour is not one frame repeated (which compresses better). */
const HELD_STEPS = 5;

/** The records of a recording of the tour's servers with `seconds` intervals each, one server after another as the tour runs them. */
async function hourOfTour(seconds: number): Promise<RecordingRecord[]> {
  const { records } = await readRecording(TOUR);
  // Written as this srvlens writes a recording: the fixture's frames are of the current shape (read so), its header
  // names the schema it was made under.
  const header = records[0].kind === 'header' ? { ...records[0], schema: RECORDING_SCHEMA } : records[0];
  const starts = records.filter((r): r is RunStart => r.kind === 'run-start');
  const interval = header.kind === 'header' ? header.interval_ms : 1000;
  const out: RecordingRecord[] = [header];
  let t = starts[0].t_ms;
  for (const st of starts) {
    const own = records.filter((r): r is Frame => r.kind === 'frame' && r.run === st.run);
    out.push({ ...st, t_ms: t });
    for (let i = 0; i < seconds; i++) {
      const held = i >= own.length;
      const src = own[held ? own.length - HELD_STEPS + ((i - own.length) % HELD_STEPS) : i];
      t += interval;
      const f: Frame = { ...src, index: i, t_ms: t };
      out.push(held && f.generator ? { ...f, phase: 'hold', generator: { ...f.generator, phase: 'hold', phase_index: 5 } } : f);
    }
    const end = records.find((r) => r.kind === 'run-end' && r.run === st.run);
    if (end) out.push({ ...end, t_ms: t } as RecordingRecord);
  }
  const last = records[records.length - 1];
  if (last.kind === 'end') out.push({ ...last, t_ms: t });
  return out;
}

interface Opened {
  ms: number;
  peakRssMb: number;
  frames: number;
}

async function main(): Promise<void> {
  const values = benchArgs('recording-rate', 'usage: node dist/bench/recording-rate.js [--rounds N] [--seconds S] [--json]', {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '3600' },
    json: { type: 'boolean', default: false },
  });
  const rounds = Number(values.rounds);
  const seconds = Number(values.seconds);
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const records = await hourOfTour(seconds);
  const servers = records.filter((r) => r.kind === 'run-start').length;
  const dir = mkdtempSync(join(tmpdir(), 'srvlens-bench-recording-'));
  const path = join(dir, 'hour.srvlens.gz');
  const got = { write: [] as number[], writeMb: [] as number[], read: [] as number[], openMs: [] as number[], openMb: [] as number[] };
  let bytes = 0;
  try {
    for (let r = 0; r < rounds; r++) {
      let t0 = performance.now();
      const w = RecordingWriter.open(path);
      for (const rec of records) w.write(rec);
      w.close();
      const writeS = (performance.now() - t0) / 1000;
      bytes = statSync(path).size;
      t0 = performance.now();
      let n = 0;
      for await (const e of iterateRecording(path)) if (e.type === 'record') n++;
      const readS = (performance.now() - t0) / 1000;
      if (n !== records.length) throw new Error(`read ${n} records of the ${records.length} written`);
      const opened = JSON.parse(execFileSync(process.execPath, [benchFile('recording/replay-open.js'), path], { encoding: 'utf8' })) as Opened;
      got.write.push(records.length / writeS);
      got.writeMb.push(bytes / MB / writeS);
      got.read.push(records.length / readS);
      got.openMs.push(opened.ms);
      got.openMb.push(opened.peakRssMb);
      log(`round ${r + 1}/${rounds}: wrote ${records.length} records in ${writeS.toFixed(2)} s, read them in ${readS.toFixed(2)} s, replay opened it in ${opened.ms.toFixed(0)} ms, peak RSS ${opened.peakRssMb.toFixed(0)} MB`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const serverHours = (servers * seconds) / 3600;
  const span = seconds % 3600 === 0 ? `${seconds / 3600} h` : `${seconds} s`;
  const what = `${servers} servers x ${seconds} intervals (${records.length} records, ${(bytes / MB).toFixed(1)} MB)`;
  const figures: SuiteJson['figures'] = [
    { name: 'write rate', unit: 'records/s', samples: got.write, note: what },
    { name: 'write rate, compressed bytes', unit: 'MB/s', samples: got.writeMb },
    { name: 'read rate', unit: 'records/s', samples: got.read },
    { name: 'size per server-hour', unit: 'MB', samples: [bytes / MB / serverHours], target: { op: '<=', value: 10 } },
    { name: `replay open, ${servers} servers x ${span}: time`, unit: 'ms', samples: got.openMs, target: { op: '<=', value: 1000 } },
    { name: `replay open, ${servers} servers x ${span}: peak RSS`, unit: 'MB', samples: got.openMb, target: { op: '<=', value: 200 }, note: 'the whole process, node itself included' },
  ];
  if (values.json) process.stdout.write(`${JSON.stringify({ figures } satisfies SuiteJson)}\n`);
  else process.stdout.write(textTable(figures.map((f) => figure({ ...f, bench: 'recording-rate' }))));
}

await main();
