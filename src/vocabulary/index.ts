export * from './parts.js';
export * from './clock.js';
export * from './metric-names.js';
export * from './exp-histogram.js';
export * from './frames.js';
export * from './stage-hook.js';
export * from './model-ids.js';
export * from './workload-params.js';
