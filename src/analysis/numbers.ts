/** The arithmetic every analyser does the same way: sums over lists, an HDR read-out to ms, rounding that keeps null as null. */

export const sum = <T>(list: readonly T[], f: (t: T) => number): number => list.reduce((s, t) => s + f(t), 0);

/** An HDR histogram's value (integer µs, the one time srvlens keeps in µs) in ms. */
export const usToMs = (us: number): number => us / 1000;

/** Rounds for a report; null, NaN and infinities (a division by no requests) come out null: no data is not 0. */
export const round = (v: number | null, digits = 3): number | null => (v === null || !Number.isFinite(v) ? null : Number(v.toFixed(digits)));

/** A figure as the verdicts write it: three significant digits or so (0, 1 or 2 decimals by size). */
export const figure = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/** A rate as the summaries write it: whole req/s from 100 up, one decimal below. */
export const reqPerSec = (v: number): string => `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} req/s`;
