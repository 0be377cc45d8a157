/** What a generator run says when it ends (the `done` message), and the summary of one that never started. */
import type { ErrorKind } from '../connections/connection.js';

export interface GeneratorSummary {
  /** First and last reported interval index; null when the run was stopped before its first phase began. */
  first_index: number | null;
  last_index: number | null;
  intervals: number;
  due: number;
  sent: number;
  completed: number;
  errors: number;
  errors_by_kind: Partial<Record<ErrorKind, number>>;
  /** Intervals in which the generator itself could not keep its rate. */
  saturated_intervals: number;
  aborted: boolean;
  /** Threads the load was spread over (absent: this thread only). */
  threads?: number;
  /** What the generator could not do as asked, in words (e.g. fewer idle connections than asked, and why). */
  notes?: string[];
}

export function emptySummary(aborted = false): GeneratorSummary {
  return { first_index: null, last_index: null, intervals: 0, due: 0, sent: 0, completed: 0, errors: 0, errors_by_kind: {}, saturated_intervals: 0, aborted };
}
