/**
 * Chart axes: where a value falls on an axis (0 at its low end, 1 at its high end) and the round values to label it
 * at. Linear axes start at 0 (a rate or a latency of nothing is the honest bottom); latency that spans more than
 * LOG_SPAN between its lowest and highest reads on a log axis, where 20 ms before the knee and 3 s past it both show.
 */
import { num } from './format.js';

/** A latency axis whose highest value is this many times its lowest goes logarithmic. */
export const LOG_SPAN = 20;

export interface Scale {
  min: number;
  max: number;
  log: boolean;
  /** Round values within [min, max] to label, ascending. */
  ticks: number[];
}

/**
 * Where a value falls on `s`, 0..1 (outside [min, max]: below 0 or above 1; NaN for a value a log axis cannot show),
 * as a function with the axis' ends' logarithms taken once: a chart places every point of every series with it (an
 * Over-time view at 200 columns: ~5000 a render).
 */
export function positionOn(s: Scale): (v: number) => number {
  if (s.log) {
    const lo = Math.log10(s.min);
    const span = Math.log10(s.max) - lo;
    return (v) => (v > 0 ? (Math.log10(v) - lo) / span : NaN);
  }
  const span = s.max - s.min;
  return span > 0 ? (v) => (v - s.min) / span : () => 0;
}

/** A step of 1, 2 or 5 times a power of ten that cuts [0, span] into at most `count` parts. */
export function niceStep(span: number, count: number): number {
  if (!(span > 0) || count < 1) return 1;
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

/**
 * What an axis is to show: one series, or several read in place (an Over-time view's ten parts at 200 columns are
 * ~4000 values, however long the run: spreading them into Math.max or concatenating them cost more than drawing them).
 */
export type AxisValues = readonly number[] | readonly (readonly number[])[];

function forEachValue(values: AxisValues, f: (v: number) => void): void {
  for (const x of values) {
    if (typeof x === 'number') f(x);
    else for (const v of x) f(v);
  }
}

/** 0 to a round top at or above every finite value; `ticks` at most, counting 0. An axis of nothing is 0..1. */
export function linearScale(values: AxisValues, ticks: number): Scale {
  let top = 0;
  forEachValue(values, (v) => {
    if (v > top && Number.isFinite(v)) top = v;
  });
  if (top === 0) return { min: 0, max: 1, log: false, ticks: [0, 1] };
  const step = niceStep(top, Math.max(1, ticks - 1));
  const max = Math.ceil(top / step - 1e-9) * step;
  const out: number[] = [];
  for (let v = 0; v <= max + step / 2; v += step) out.push(Number(v.toPrecision(12)));
  return { min: 0, max, log: false, ticks: out };
}

/** Decades around the positive values (1, 10, 100 ms...); linear when they span less than LOG_SPAN. */
export function latencyScale(values: AxisValues, ticks: number): Scale {
  let lo = Infinity;
  let hi = 0;
  forEachValue(values, (v) => {
    if (v > 0 && Number.isFinite(v)) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  });
  if (hi === 0) return linearScale([], ticks);
  if (hi / lo < LOG_SPAN) return linearScale(values, ticks);
  const min = 10 ** Math.floor(Math.log10(lo));
  const max = 10 ** Math.ceil(Math.log10(hi));
  const decades: number[] = [];
  for (let v = min; v <= max * 1.0001; v *= 10) decades.push(Number(v.toPrecision(12)));
  // Fewer rows than decades: every other one, always keeping both ends.
  const every = Math.max(1, Math.ceil((decades.length - 1) / Math.max(1, ticks - 1)));
  return { min, max, log: true, ticks: decades.filter((_, i) => i % every === 0 || i === decades.length - 1) };
}

/** A tick's label: the number as the dashboard prints numbers, thousands as k (2k req/s). */
export function tickLabel(v: number): string {
  if (Math.abs(v) >= 10_000) return `${Number((v / 1000).toPrecision(3))}k`;
  return v >= 100 || Number.isInteger(v) ? String(Math.round(v)) : num(v);
}
