/** Errors a user can cause with a scenario file. Stable codes, one line per problem, no stack trace needed. */
import { UserError } from '../vocabulary/errors.js';

export interface ScenarioProblem {
  /** 1-based line and column of the offending node, or of its nearest existing parent when a key is missing. */
  line: number;
  column: number;
  /** Field path as a user would write it: `load.phases[1].rate`; "" for YAML syntax errors. */
  path: string;
  message: string;
}

export type ScenarioErrorCode = 'SCENARIO_INVALID' | 'SCENARIO_NOT_FOUND' | 'SCENARIO_UNREADABLE';

export class ScenarioError extends UserError {
  override name = 'ScenarioError';

  constructor(
    override readonly code: ScenarioErrorCode,
    readonly file: string,
    /** Empty unless code is SCENARIO_INVALID. */
    readonly problems: readonly ScenarioProblem[],
    message: string = problems.map((p) => formatProblem(file, p)).join('\n'),
  ) {
    super(message, code);
  }
}

/** `quickstart.yaml:12:7: load.phases[1].rate: expected a number greater than 0, got "fast"` */
export function formatProblem(file: string, p: ScenarioProblem): string {
  return `${file}:${p.line}:${p.column}: ${p.path === '' ? '' : `${p.path}: `}${p.message}`;
}
