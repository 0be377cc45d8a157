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

/** Where `v` falls, 0..1 (outside [min, max]: below 0 or above 1); NaN for a value a log axis cannot show. */
export function position(s: Scale, v: number): number {
  if (s.log) return v > 0 ? (Math.log10(v) - Math.log10(s.min)) / (Math.log10(s.max) - Math.log10(s.min)) : NaN;
  return s.max > s.min ? (v - s.min) / (s.max - s.min) : 0;
}

/** A step of 1, 2 or 5 times a power of ten that cuts [0, span] into at most `count` parts. */
export function niceStep(span: number, count: number): number {
  if (!(span > 0) || count < 1) return 1;
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

/** 0 to a round top at or above every finite value; `ticks` at most, counting 0. An axis of nothing is 0..1. */
export function linearScale(values: readonly number[], ticks: number): Scale {
  const top = Math.max(0, ...values.filter(Number.isFinite));
  if (top === 0) return { min: 0, max: 1, log: false, ticks: [0, 1] };
  const step = niceStep(top, Math.max(1, ticks - 1));
  const max = Math.ceil(top / step - 1e-9) * step;
  const out: number[] = [];
  for (let v = 0; v <= max + step / 2; v += step) out.push(Number(v.toPrecision(12)));
  return { min: 0, max, log: false, ticks: out };
}

/** Decades around the positive values (1, 10, 100 ms...); linear when they span less than LOG_SPAN. */
export function latencyScale(values: readonly number[], ticks: number): Scale {
  const positive = values.filter((v) => Number.isFinite(v) && v > 0);
  if (positive.length === 0) return linearScale([], ticks);
  const lo = Math.min(...positive);
  const hi = Math.max(...positive);
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
