/**
 * The explicit stage API, as seen by application code: `markStage(res, STAGE.downstream)` says "from now on this
 * request is in that stage". The agent, when preloaded, installs the hook on a global symbol; without the agent the
 * call is a cheap no-op, so the reference servers run the same code with and without it.
 */
export const STAGE_HOOK = Symbol.for('srvlens.agent.stage');

type StageHook = (handle: object, stage: number) => void;

export function markStage(handle: object, stage: number): void {
  const hook = (globalThis as Record<symbol, StageHook | undefined>)[STAGE_HOOK];
  if (hook !== undefined) hook(handle, stage);
}
