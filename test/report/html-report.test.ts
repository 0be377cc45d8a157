/**
 * The HTML report of the recorded tour, as a user makes it (`srvlens report FILE --out report.html`) and reads it: in
 * a real browser (Debian's Chromium, headless, driven by puppeteer-core). The page loads nothing from anywhere, logs
 * no error, fits 1280 px, prints, and every chart is drawn: more than two colours, each server's own colour on the
 * throughput chart, the dominant part's colour on each "where the time goes". The screenshot is kept in
 * test-output/ (not committed) for a person to look at. Needs `npm run build` first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { PNG } from 'pngjs';
import { PART_STYLE, type PartName } from '../../src/vocabulary/index.js';
import type { Report } from '../../src/report/json-report.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/src/cli.js');
const TOUR = join(import.meta.dirname, 'fixtures/tour.srvlens.gz');
const OUTPUT = join(ROOT, 'test-output');
/** The tour's servers, in the report's order, take Tableau's ten in charts.ts: the first nine. */
const SERVER_COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f'];

let dir = '';
let html = '';
let report: Report;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];
const requests: string[] = [];

function cli(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
}

/** The distinct colours of a PNG, as #rrggbb (alpha ignored: screenshots are opaque). */
function coloursOf(png: Uint8Array): Set<string> {
  const img = PNG.sync.read(Buffer.from(png));
  const out = new Set<string>();
  for (let i = 0; i < img.data.length; i += 4) out.add(`#${[img.data[i], img.data[i + 1], img.data[i + 2]].map((v) => v.toString(16).padStart(2, '0')).join('')}`);
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'srvlens-html-'));
  html = join(dir, 'report.html');
  const made = cli(['report', TOUR, '--out', html]);
  expect(made.status, made.stderr).toBe(0);
  report = JSON.parse(cli(['report', TOUR, '--format', 'json']).stdout) as Report;
  browser = await puppeteer.launch({
    executablePath: execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warn') consoleErrors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`page error: ${String(e)}`));
  page.on('request', (r) => requests.push(r.url()));
  await page.setViewport({ width: 1280, height: 800 });
  await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the HTML report of the tour, in Chromium', () => {
  it('is one small file that asks for nothing and logs no error', () => {
    expect(statSync(html).size).toBeLessThan(1024 * 1024);
    expect(consoleErrors).toEqual([]);
    // The page itself, and nothing else: no script, stylesheet, font or image from anywhere.
    expect(requests).toEqual([pathToFileURL(html).href]);
  });

  it('fits 1280 px and shows every server with its diagnosis', async () => {
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
    const text = await page.evaluate(() => document.body.innerText);
    for (const run of report.runs) {
      expect(text).toContain(run.server);
      // innerText may re-flow white space; the diagnosis is there word for word.
      expect(text.replace(/\s+/g, ' ')).toContain(run.summary!.diagnosis.replace(/\s+/g, ' '));
    }
    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: join(OUTPUT, 'html-report-tour.png'), fullPage: true });
    await page.screenshot({ path: join(OUTPUT, 'html-report-tour-1280x800.png') });
  });

  it('draws every chart: the load curves with each server in its colour, each server\'s parts and contexts', async () => {
    const charts = await page.$$('figure.chart');
    const labels = await Promise.all(charts.map((c) => c.evaluate((e) => e.getAttribute('aria-label') ?? '')));
    // Five of the load curves, then each server's parts and contexts.
    expect(labels.slice(0, 5)).toEqual(['throughput against offered load', 'latency against offered load', 'CPU per request', 'run-queue wait per request', 'event-loop delay']);
    for (const run of report.runs) expect(labels).toEqual(expect.arrayContaining([`${run.server}: where the time goes`, `${run.server}: contexts at the peak`]));
    for (const [i, chart] of charts.entries()) {
      const box = await chart.boundingBox();
      expect(box!.width, labels[i]).toBeGreaterThan(300);
      expect(box!.height, labels[i]).toBeGreaterThan(100);
      const colours = coloursOf(await chart.screenshot());
      expect(colours.size, labels[i]).toBeGreaterThan(2);
      if (i === 0) for (const c of SERVER_COLOURS) expect(colours, `${labels[i]}: ${c}`).toContain(c);
    }
    for (const run of report.runs) {
      if (run.source !== 'generator') throw new Error(`${run.server}: the tour's runs are the generator's`);
      const dominant = run.summary!.dominant_part_at_knee as PartName;
      const chart = charts[labels.indexOf(`${run.server}: where the time goes`)];
      expect(coloursOf(await chart.screenshot()), `${run.server}: ${dominant}`).toContain(PART_STYLE[dominant].hex);
    }
  });

  it('prints', async () => {
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    expect(Buffer.from(pdf).subarray(0, 5).toString()).toBe('%PDF-');
    // A page per couple of servers, give or take: the whole report, not a blank sheet.
    expect(Buffer.from(pdf).toString('latin1').match(/\/Type\s*\/Page[^s]/g)!.length).toBeGreaterThan(3);
  });
});

describe('srvlens report --format', () => {
  it('takes the format from --out\'s extension, and refuses one it does not know with exit 2', () => {
    const md = join(dir, 'r.md');
    expect(cli(['report', TOUR, '--out', md]).status).toBe(0);
    expect(readFileSync(md, 'utf8')).toMatch(/^## srvlens report: tour/);
    // A file that cannot be written is the user's to fix: exit 2 and why, not a stack.
    const nowhere = cli(['report', TOUR, '--out', join(dir, 'no-such-dir', 'r.html')]);
    expect(nowhere.status).toBe(2);
    expect(nowhere.stderr).toMatch(/--out .*no-such-dir\/r\.html: cannot write it \(ENOENT/);
    const bad = cli(['report', TOUR, '--format', 'pdf']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--format must be text, json, markdown or html, not 'pdf'/);
  });
});
