// The agent's preload imports this in every thread of its host, before the app: nothing here may load a package.
// HDR merging (hdr.ts, on hdr-histogram-js: ~50 ms of CPU to load) is imported from its own file by its readers.
export * from './parts.js';
export * from './part-style.js';
export * from './clock.js';
export * from './metric-names.js';
export * from './exp-histogram.js';
export * from './frames.js';
export * from './stage-hook.js';
export * from './model-ids.js';
export * from './workload-params.js';
export * from './intervals.js';
export * from './slo.js';
export * from './generator-limits.js';
export * from './tagged-message.js';
export * from './limits.js';
