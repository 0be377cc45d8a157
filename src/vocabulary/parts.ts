/**
 * The time decomposition (ARCHITECTURE section 1): every request's latency, as the client saw it, is split into
 * these parts whatever the model. This file is the one place a part or a stage is spelled.
 */

/** Parts of a request's latency, in the order they happen. */
export const PART_NAMES = [
  'send_wait',
  'accept_queue',
  'server_queue',
  'parse',
  'process',
  'downstream',
  'transform',
  'send',
  'network',
  'unmeasured',
] as const;
export type PartName = (typeof PART_NAMES)[number];

/**
 * Server-side stages the agent measures, as contiguous intervals of one request's life on the server, from the
 * client's send (known through the SEND_TIME_HEADER) to the response's last byte handed to the kernel.
 * The index is what the agent's hot path uses; the order is the order they happen in.
 */
export const STAGES = ['accept_queue', 'server_queue', 'parse', 'process', 'downstream', 'transform', 'send'] as const;
export type StageName = (typeof STAGES)[number];
export const STAGE = {
  accept_queue: 0,
  server_queue: 1,
  parse: 2,
  process: 3,
  downstream: 4,
  transform: 5,
  send: 6,
} as const satisfies Record<StageName, number>;
export const STAGE_COUNT = STAGES.length;

/** Stages an application can open with the explicit stage API (the others the agent marks itself). */
export const APP_STAGES = ['parse', 'process', 'downstream', 'transform', 'send'] as const satisfies readonly StageName[];
export type AppStageName = (typeof APP_STAGES)[number];

/** Stage a request is in when its handler starts and nothing has marked another: the handler's own code. */
export const DEFAULT_HANDLER_STAGE = STAGE.process;

/**
 * Headers the srvlens generator sends with every request.
 * SEND_TIME_HEADER: the instant the client handed the request to the kernel, in microseconds on the host's
 * monotonic clock (see clock.ts). Same host, same clock: the server subtracts it from its own marks.
 */
export const SEND_TIME_HEADER = 'x-srvlens-send-us';
export const TRACEPARENT_HEADER = 'traceparent';
