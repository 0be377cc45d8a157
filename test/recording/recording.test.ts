import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { RECORDING_SCHEMA, STAGES, emptyExpHistogram, type Frame, type RecordingHeader, type RecordingRecord } from '../../src/vocabulary/index.js';
import { encodeMember } from '../../src/recording/format.js';
import { iterateRecording, readRecording, type RecordingEntry } from '../../src/recording/reader.js';
import { RecordingWriter } from '../../src/recording/writer.js';
import { upgradeFrame } from '../../src/recording/upgrade-frame.js';
import { RecordingIndex } from '../../dashboard/state/recording-index.js';
import { smallRecording } from '../helpers/damaged-recordings.js';

const dir = mkdtempSync(join(tmpdir(), 'srvlens-recording-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileNumber = 0;
const tempFile = () => join(dir, `r${fileNumber++}.srvlens.gz`);

const header: RecordingHeader = {
  kind: 'header',
  schema: RECORDING_SCHEMA,
  tool: { name: 'srvlens', version: '0.1.0' },
  created: '2025-01-01T00:00:00.000Z',
  scenario: { name: 'test', file: null, description: '', config: { servers: [{ name: 'event-loop' }] } },
  host: { cpus: 2, cpu_model: 'test', cpu_speed_ghz: null, memory_bytes: 2 ** 31, os: 'linux', kernel: '6', hostname: 'h', node: 'v20' },
  interval_ms: 1000,
};

function frame(index: number): Frame {
  return {
    kind: 'frame',
    run: 0,
    index,
    t_ms: 1000 * index,
    interval_ms: 1000,
    phase: 'light',
    generator: null,
    server: null,
    contexts: [
      {
        key: '100', pid: 100, tid: null, name: 'node', role: 'server',
        cpu_user_ms: 10 + index, cpu_system_ms: 3, voluntary: 200 * index, involuntary: index,
        runqueue_wait_ms: 0.5, eventloop_delay: emptyExpHistogram(), eventloop_utilization: 0.25, rss_bytes: 5e7,
      },
    ],
    backend: null,
  };
}

/** A frame as srvlens.recording/1 and /2 wrote it: the sums in µs, the switches as ctx_*; µs values picked by hand. */
function olderFrame(): unknown {
  const stages = Object.fromEntries(STAGES.map((s) => [s, { sum_us: 0, requests: 10, entries: 0 }]));
  stages.server_queue = { sum_us: 4000, requests: 8, entries: 8 };
  stages.process = { sum_us: 20_500, requests: 10, entries: 10 };
  const generator = {
    phase: 'light', phase_index: 0, target_rps: 10, due: 10, sent: 10, completed: 10, errors: 0,
    latency_hdr: 'HDR', uncorrected_hdr: 'HDR', sum_total_us: 123_456, sum_send_wait_us: 2500, sum_response_us: 120_956,
    backlog: 0, in_flight: 0, connections: 2, cpu_ms: 4, loop_lag_max_ms: 1, saturated: false, saturation: [],
    connects: 10, sum_connect_us: 750, connect_hdr: 'HDR',
  };
  const server = {
    requests: 10, joined: 8, stages, duration: emptyExpHistogram(),
    thread_split: { requests: 10, on_cpu_us: 1500, runqueue_us: 250, blocked_us: 8000 }, dropped: 0, agent_errors: 0,
  };
  const backend = { calls: 4, completed: 4, queue_max: 1, queue_mean: 0.5, in_service_max: 2, limit: 2, sum_service_us: 200_000, sum_queue_us: 150 };
  const { voluntary, involuntary, ...context } = frame(0).contexts[0];
  return { ...frame(0), generator, server, backend, contexts: [{ ...context, ctx_voluntary: voluntary + 7, ctx_involuntary: involuntary + 3 }] };
}

/** olderFrame() in the current schema, worked out by hand: µs / 1000 into ms, the switches renamed. */
const UPGRADED: Frame = {
  ...frame(0),
  generator: {
    phase: 'light', phase_index: 0, target_rps: 10, due: 10, sent: 10, completed: 10, errors: 0,
    latency_hdr: 'HDR', uncorrected_hdr: 'HDR', sum_total_ms: 123.456, sum_send_wait_ms: 2.5, sum_response_ms: 120.956,
    backlog: 0, in_flight: 0, connections: 2, cpu_ms: 4, loop_lag_max_ms: 1, saturated: false, saturation: [],
    connects: 10, sum_connect_ms: 0.75, connect_hdr: 'HDR',
  },
  server: {
    requests: 10, joined: 8,
    stages: {
      accept_queue: { sum_ms: 0, requests: 10, entries: 0 },
      server_queue: { sum_ms: 4, requests: 8, entries: 8 },
      parse: { sum_ms: 0, requests: 10, entries: 0 },
      process: { sum_ms: 20.5, requests: 10, entries: 10 },
      downstream: { sum_ms: 0, requests: 10, entries: 0 },
      transform: { sum_ms: 0, requests: 10, entries: 0 },
      send: { sum_ms: 0, requests: 10, entries: 0 },
    },
    duration: emptyExpHistogram(),
    thread_split: { requests: 10, on_cpu_ms: 1.5, runqueue_ms: 0.25, blocked_ms: 8 }, dropped: 0, agent_errors: 0,
  },
  backend: { calls: 4, completed: 4, queue_max: 1, queue_mean: 0.5, in_service_max: 2, limit: 2, sum_service_ms: 200, sum_queue_ms: 0.15 },
  contexts: [{ ...frame(0).contexts[0], voluntary: 7, involuntary: 3 }],
};

/** header, 5 frames, end: what every cut below is taken from. */
const SMALL: RecordingRecord[] = [header, ...[0, 1, 2, 3, 4].map(frame), { kind: 'end', t_ms: 5000, ok: true }];

function writeRecording(records: readonly RecordingRecord[], path = tempFile()): string {
  const writer = RecordingWriter.open(path);
  for (const r of records) writer.write(r);
  writer.close();
  return path;
}

async function entriesOf(path: string): Promise<RecordingEntry[]> {
  const entries: RecordingEntry[] = [];
  for await (const entry of iterateRecording(path)) entries.push(entry);
  return entries;
}

/** Offsets where each record's member ends, from the reader's own account of the intact file. */
async function memberEnds(path: string): Promise<number[]> {
  return (await entriesOf(path)).flatMap((e) => (e.type === 'record' ? [e.offset + e.bytes] : []));
}

/** recording.test.ts's SMALL as srvlens wrote it under schema /4 (summaries, no SC check), at commit a178c03. */
const V4_SMALL = 'test/recording/fixtures/small-v4.srvlens.gz';

/**
 * Every one-bit flip and every cut of `original`: iterateRecording must give the same account with summaries as
 * without (the same members, the same damage, said the same way), or refuse the file both ways.
 */
async function expectSameAccounts(original: Buffer): Promise<void> {
  const path = tempFile();
  const account = async (summaries: boolean) => {
    const out: string[] = [];
    for await (const e of iterateRecording(path, { summaries })) out.push(e.type === 'damage' ? `damage ${e.damage.kind} ${e.damage.offset} ${e.damage.afterRecords}: ${e.damage.message}` : `${e.offset}+${e.bytes}`);
    return out;
  };
  const variants = [
    ...Array.from({ length: original.length }, (_, i) => () => {
      const bytes = Buffer.from(original);
      bytes[i] ^= 1 << i % 8;
      return bytes;
    }),
    ...Array.from({ length: original.length }, (_, n) => () => original.subarray(0, n)),
  ];
  let compared = 0;
  for (const make of variants) {
    writeFileSync(path, make());
    let plain: string[] | null;
    try {
      plain = await account(false);
    } catch {
      plain = null; // not a recording at all (the header's member): both refuse it
    }
    if (plain === null) await expect(account(true)).rejects.toThrow();
    else expect(await account(true), `variant ${compared}`).toEqual(plain);
    compared++;
  }
  expect(compared).toBe(2 * original.length);
}

describe('recording files', () => {
  it('read back exactly what was written, and stay readable by any gunzip', async () => {
    const path = writeRecording(SMALL);
    const read = await readRecording(path);
    expect(read).toEqual({ header, records: SMALL, damage: null });
    expect(await memberEnds(path)).toHaveLength(SMALL.length);
    expect((await memberEnds(path)).at(-1)).toBe(statSync(path).size);
    const lines = gunzipSync(readFileSync(path)).toString().trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l))).toEqual(SMALL);
  });

  it.each(['srvlens.recording/1', 'srvlens.recording/2'])('written by an older srvlens (%s: sums in µs, ctx_* switches) read as the current schema', async (schema) => {
    const old = { ...header, schema };
    const start = { kind: 'run-start', run: 0, server: 'event-loop', model: 'event-loop', size: {}, workload: {}, t_ms: 0 };
    const records = [old, start, olderFrame(), { kind: 'end', t_ms: 1000, ok: true }] as unknown as RecordingRecord[];
    const path = writeRecording(records);
    // The header still says what the file is; the frame comes in the current shape, every µs sum in ms.
    expect(await readRecording(path)).toEqual({ header: old, records: [old, start, UPGRADED, records[3]], damage: null });
    // The replay index decodes frames itself, and upgrades them the same way.
    const index = await RecordingIndex.open(path);
    try {
      expect(await index.frames(0, 0, 1)).toEqual([UPGRADED]);
    } finally {
      await index.close();
    }
  });

  it('upgradeFrame leaves a current frame as it is and converts only the keys an older one has', () => {
    const current = frame(3);
    expect(upgradeFrame(structuredClone(current), RECORDING_SCHEMA)).toEqual(current);
    // A /proc frame of /2: no generator, server or backend; only the switches are renamed.
    const { voluntary, involuntary, ...context } = frame(1).contexts[0];
    const proc = { ...frame(1), contexts: [{ ...context, ctx_voluntary: voluntary, ctx_involuntary: involuntary }] };
    expect(upgradeFrame(proc as unknown as Frame, 'srvlens.recording/2')).toEqual(frame(1));
    // A generator of a run without connects has no sum_connect_us, and gets no sum_connect_ms.
    const gen = upgradeFrame({ ...frame(0), generator: { sum_total_us: 1500, sum_send_wait_us: 0, sum_response_us: 1500 } } as unknown as Frame, 'srvlens.recording/1');
    expect(gen.generator).toEqual({ sum_total_ms: 1.5, sum_send_wait_ms: 0, sum_response_ms: 1.5 });
  });

  it('cut at every length, give every complete record before the cut and say where the damage starts', async () => {
    const full = readFileSync(writeRecording(SMALL));
    const ends = await memberEnds(writeRecording(SMALL));
    const path = tempFile();
    for (let length = 0; length <= full.length; length++) {
      writeFileSync(path, full.subarray(0, length));
      const complete = ends.filter((end) => end <= length).length;
      const { header: h, records, damage } = await readRecording(path);
      expect(records, `cut at ${length}`).toEqual(SMALL.slice(0, complete));
      expect(h).toEqual(complete > 0 ? header : null);
      if (length === full.length) {
        expect(damage).toBeNull();
      } else {
        const offset = complete === 0 ? 0 : ends[complete - 1];
        expect(damage, `cut at ${length}`).toMatchObject({ kind: 'truncated', offset, afterRecords: complete });
        expect(damage!.message).toContain(length === 0 ? 'empty' : `at byte ${offset}`);
      }
    }
  });

  it('stop at a flipped byte and say where', async () => {
    const path = writeRecording(SMALL);
    const entries = (await entriesOf(path)).flatMap((e) => (e.type === 'record' ? [e] : []));
    const third = entries[3]; // frame 2
    const bytes = readFileSync(path);
    bytes[third.offset + Math.floor(third.bytes / 2)] ^= 0xff;
    writeFileSync(path, bytes);
    const { records, damage } = await readRecording(path);
    expect(records).toEqual(SMALL.slice(0, 3));
    expect(damage).toMatchObject({ kind: 'corrupt', offset: third.offset, afterRecords: 3 });
    expect(damage!.message).toMatch(new RegExp(`^corrupt at byte ${third.offset}: record 4 is damaged`));
  });

  it('never return altered data, whichever byte after the header is flipped', async () => {
    const original = readFileSync(writeRecording(SMALL));
    const [headerEnd] = await memberEnds(writeRecording(SMALL));
    const path = tempFile();
    for (let i = headerEnd; i < original.length; i++) {
      const bytes = Buffer.from(original);
      bytes[i] ^= 0xff;
      writeFileSync(path, bytes);
      const { records, damage } = await readRecording(path);
      expect(SMALL.slice(0, records.length), `byte ${i}`).toEqual(records);
      if (damage === null) expect(records.length, `byte ${i}`).toBe(SMALL.length);
      else expect(damage.afterRecords, `byte ${i}`).toBe(records.length);
    }
  });

  it('carry a summary in each frame\'s gzip header that an index reads in place of the frame, with the same account', async () => {
    const path = writeRecording(SMALL);
    const summarised: RecordingEntry[] = [];
    for await (const entry of iterateRecording(path, { summaries: true })) summarised.push(entry);
    const parsed = await entriesOf(path);
    expect(summarised.map((e) => e.type)).toEqual(['record', 'summary', 'summary', 'summary', 'summary', 'summary', 'record']);
    summarised.forEach((e, i) => {
      const p = parsed[i];
      if (e.type === 'damage' || p.type !== 'record') throw new Error(`entry ${i}: ${e.type} against ${p.type}`);
      expect([e.offset, e.bytes]).toEqual([p.offset, p.bytes]);
      if (e.type === 'summary') expect(e.summary).toEqual({ run: 0, index: i - 1, phase: null, phase_index: null });
    });
    // Any gunzip still reads it, header CRC and all.
    expect(gunzipSync(readFileSync(path)).toString('utf8').trim().split('\n')).toHaveLength(SMALL.length);
  });

  it('say the same of a damaged file with summaries as without: at every flipped byte and every cut', async () => {
    // The frames' members are checked by their CRCs (/5): flips and cuts in the check, the summary and the data alike.
    await expectSameAccounts(readFileSync(writeRecording(SMALL)));
  });

  it('read a /4 file as written, its frames as summaries checked by inflating them, and say the same of it damaged', async () => {
    const records = [{ ...header, schema: 'srvlens.recording/4' }, ...SMALL.slice(1)];
    expect(await readRecording(V4_SMALL)).toEqual({ header: records[0], records, damage: null });
    const summarised: string[] = [];
    for await (const entry of iterateRecording(V4_SMALL, { summaries: true })) summarised.push(entry.type);
    expect(summarised).toEqual(['record', 'summary', 'summary', 'summary', 'summary', 'summary', 'record']);
    await expectSameAccounts(readFileSync(V4_SMALL));
  });

  it('tell a flipped bit in a frame\'s check or its compressed bytes as the damage it is, in replay as in the report', async () => {
    const small = await smallRecording(dir, 4);
    const path = tempFile();
    const frames = small.records.flatMap((r, i) => (r.kind === 'frame' ? [i] : []));
    for (const i of frames) {
      const start = small.ends[i - 1];
      // The SC subfield's CRC32 (format.ts: the fixed header, XLEN, SL, then SC's id and length), and a byte of deflate.
      for (const at of [start + 24, start + 26, start + Math.floor((small.ends[i] - start) * 0.7)]) {
        const bytes = Buffer.from(small.bytes);
        bytes[at] ^= 0x10;
        writeFileSync(path, bytes);
        const { records, damage } = await readRecording(path);
        expect(damage, `byte ${at}`).toMatchObject({ kind: 'corrupt', offset: start, afterRecords: i });
        expect(records, `byte ${at}`).toEqual(small.records.slice(0, i));
        const index = await RecordingIndex.open(path);
        await index.close();
        expect(index.damage, `byte ${at}`).toBe(damage!.message);
        expect(index.runs()[0].frames, `byte ${at}`).toBe(i - frames[0]);
      }
    }
  });

  it('report a record of unknown kind as damage', async () => {
    const path = writeRecording(SMALL.slice(0, 3));
    writeFileSync(path, Buffer.concat([readFileSync(path), encodeMember({ kind: 'snapshot' } as unknown as RecordingRecord)]));
    const { records, damage } = await readRecording(path);
    expect(records).toEqual(SMALL.slice(0, 3));
    expect(damage).toMatchObject({ kind: 'corrupt', afterRecords: 3, message: expect.stringContaining('unknown kind "snapshot"') });
  });

  it('refuse files that are not recordings, saying why', async () => {
    const lines = SMALL.map((r) => JSON.stringify(r)).join('\n');
    const cases: [string, Buffer, string, RegExp][] = [
      ['plain text', Buffer.from('hello, world\n'), 'RECORDING_INVALID', /is not a srvlens recording: it is not gzip-compressed/],
      ['JSON lines', Buffer.from(lines), 'RECORDING_INVALID', /is not a srvlens recording: it is not gzip-compressed/],
      ['gzipped JSON lines', gzipSync(lines), 'RECORDING_INVALID', /is not a srvlens recording: it is gzip, but without the per-record framing/],
      ['no header first', Buffer.concat(SMALL.slice(1).map(encodeMember)), 'RECORDING_INVALID', /its first record is not a recording header/],
      ['another schema', encodeMember({ ...header, schema: 'srvlens.recording/9' } as unknown as RecordingRecord), 'RECORDING_UNSUPPORTED', /schema "srvlens\.recording\/9"/],
    ];
    for (const [name, bytes, code, message] of cases) {
      const path = tempFile();
      writeFileSync(path, bytes);
      await expect(readRecording(path), name).rejects.toMatchObject({ code, file: path, message: expect.stringMatching(message) });
    }
    await expect(readRecording(join(dir, 'missing.srvlens.gz'))).rejects.toMatchObject({ code: 'RECORDING_NOT_FOUND' });
  });

  it('are begun with a header, and closed once', () => {
    const writer = RecordingWriter.open(tempFile());
    expect(() => writer.write(frame(0))).toThrow(/first record .* must be its header/);
    writer.write(header);
    writer.close();
    writer.close();
    expect(() => writer.write(frame(0))).toThrow(/closed/);
  });

  it('written by a process killed with SIGKILL read back up to the last complete frame', async () => {
    const writerModule = resolve('dist/src/recording/writer.js');
    if (!existsSync(writerModule)) throw new Error(`${writerModule} is missing: build first (npx tsc -p .; npm test does)`);
    const path = tempFile();
    // Writes frames as fast as it can and never yields, so the kill lands at an arbitrary point of a write.
    const script = `
      import { RecordingWriter } from ${JSON.stringify(pathToFileURL(writerModule).href)};
      const [header, frame] = JSON.parse(process.env.RECORDS);
      const writer = RecordingWriter.open(process.env.OUT);
      writer.write(header);
      for (let i = 0; ; i++) {
        writer.write({ ...frame, index: i, t_ms: 1000 * i });
        if (i === 100) process.stdout.write('writing\\n');
      }`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, OUT: path, RECORDS: JSON.stringify([header, frame(0)]) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<NodeJS.Signals | null>((done) => child.on('exit', (_code, signal) => done(signal)));
    child.stdout.once('data', () => child.kill('SIGKILL'));
    expect(await exited, stderr).toBe('SIGKILL');

    const { header: h, records, damage } = await readRecording(path);
    expect(h).toEqual(header);
    const frames = records.slice(1) as Frame[];
    expect(frames.length).toBeGreaterThan(100);
    expect(frames.map((f) => f.index)).toEqual(frames.map((_, i) => i));
    expect(frames.at(-1)).toEqual({ ...frame(0), index: frames.length - 1, t_ms: 1000 * (frames.length - 1) });
    const intactBytes = (await memberEnds(path)).at(-1);
    expect(damage).toMatchObject({ kind: 'truncated', offset: intactBytes, afterRecords: records.length });
    expect(statSync(path).size).toBeGreaterThanOrEqual(intactBytes!);
  });
});
