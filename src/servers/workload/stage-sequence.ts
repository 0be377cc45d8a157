/**
 * The workload's stage sequence (ARCHITECTURE section 5), written once for every model:
 *
 *   parse       read what is left of the request (its body), burn parse_us
 *   process     burn process_us
 *   downstream  backend_calls calls to the backend, one after another, as dependent queries (only if there is one)
 *   transform   burn transform_us, build the response
 *   send        hand the response to the kernel
 *
 * Each stage begins with its mark ("from now on this request is in that stage", a no-op without the agent). The
 * marks are the contract between the models and the time decomposition, so they are made here and nowhere else;
 * a model decides only where each step runs, through its StageRunner: a CPU stage burnt on the calling thread or
 * handed to a pool, a backend call that blocks the thread or one that returns a promise.
 *
 * The sequence is stack-ripped, as the lecture's event-driven servers are written: a WorkloadRun keeps the
 * request's place in it, a step that returns a promise suspends the run, and the promise's settling resumes it. A
 * runner that never returns a promise (the blocking models) goes through the whole sequence in one call.
 */
import { STAGE } from '../../vocabulary/parts.js';
import { markStage } from '../../vocabulary/stage-hook.js';
import type { WorkloadParams } from '../../vocabulary/workload-params.js';
import { burnCpu } from './cpu-burn.js';

/** What a step leaves to wait for: a promise the run resumes after, or undefined when the step is done. */
export type StepWait = Promise<unknown> | undefined;

/** Where a model runs each step of the sequence; `C` is what it keeps for the request (or its connection). */
export interface StageRunner<C> {
  /** Reads the rest of the request in the parse stage; absent when the model's parser has read it already. */
  read?(ctx: C): StepWait;
  /** Burns `us` µs of a CPU stage's work (0 included: whether nothing costs nothing is the model's to say). */
  cpu(ctx: C, us: number): StepWait;
  /** One call to the backend; the next step waits for its reply. */
  backend(ctx: C): StepWait;
  /** The transform stage's last work: the response, built. */
  response(ctx: C, w: WorkloadParams): Buffer;
  /** Hands the response to the kernel: the send stage. */
  send(ctx: C, response: Buffer): void;
  /** A step threw or its wait rejected: answers the failure (a 502, so the generator counts an error, not a hang). */
  fail(ctx: C, err: unknown): void;
  /** After a wait: true when the request is no longer wanted (its connection closed meanwhile); the run stops. */
  abandoned?(ctx: C): boolean;
}

/** The steps in their order; a run's `step` is the next one. */
const enum Step {
  Read,
  Parse,
  Process,
  Downstream,
  Transform,
  Send,
  Over,
}

/**
 * One request's place in the sequence. A model may keep one per connection and start it for each request in turn:
 * its continuations are made at its first wait and reused, so a request allocates nothing here.
 */
export class WorkloadRun<C> {
  private step = Step.Over;
  private callsDone = 0;
  private ctx!: C;
  private handle!: object;
  private workload!: WorkloadParams;
  private resume: (() => void) | null = null;
  private failed: ((err: unknown) => void) | null = null;

  constructor(private readonly runner: StageRunner<C>) {}

  /**
   * Runs workload `w` for the request `ctx`, from its first stage up to the first wait or to the end. `handle`: what
   * the agent keys the request on (the response object, the connection).
   */
  start(ctx: C, handle: object, w: WorkloadParams): void {
    this.ctx = ctx;
    this.handle = handle;
    this.workload = w;
    this.step = Step.Read;
    this.callsDone = 0;
    this.advance();
  }

  private advance(): void {
    const { runner, ctx, handle, workload: w } = this;
    try {
      for (;;) {
        let wait: StepWait;
        switch (this.step++) {
          case Step.Read:
            markStage(handle, STAGE.parse);
            wait = runner.read?.(ctx);
            break;
          case Step.Parse:
            wait = runner.cpu(ctx, w.parse_us);
            break;
          case Step.Process:
            markStage(handle, STAGE.process);
            wait = runner.cpu(ctx, w.process_us);
            break;
          case Step.Downstream:
            if (this.callsDone === w.backend_calls) break;
            if (this.callsDone === 0) markStage(handle, STAGE.downstream);
            this.callsDone++;
            this.step = Step.Downstream; // again, until every call is done
            wait = runner.backend(ctx);
            break;
          case Step.Transform:
            markStage(handle, STAGE.transform);
            wait = runner.cpu(ctx, w.transform_us);
            break;
          case Step.Send: {
            const response = runner.response(ctx, w);
            markStage(handle, STAGE.send);
            runner.send(ctx, response);
            return;
          }
          default:
            return;
        }
        if (wait !== undefined) {
          wait.then((this.resume ??= () => this.resumeAfterWait()), (this.failed ??= (err) => this.failAfterWait(err)));
          return;
        }
      }
    } catch (err) {
      this.step = Step.Over;
      runner.fail(ctx, err);
    }
  }

  private resumeAfterWait(): void {
    if (this.runner.abandoned?.(this.ctx) === true) this.step = Step.Over;
    else this.advance();
  }

  private failAfterWait(err: unknown): void {
    this.step = Step.Over;
    if (this.runner.abandoned?.(this.ctx) !== true) this.runner.fail(this.ctx, err);
  }
}

/** A CPU stage burnt on the calling thread, before the next step: the runner of every model but the hybrid. */
export function burnHere(_ctx: unknown, us: number): undefined {
  burnCpu(us);
  return undefined;
}

/** The text of a failed request's 502. */
export function failureText(err: unknown): string {
  return `srvlens workload failed: ${err instanceof Error ? err.message : String(err)}\n`;
}
