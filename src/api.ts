/**
 * The package's public API: `import { markStage, STAGE } from 'srvlens'`. Every function is a no-op without the
 * agent (`node --import srvlens/agent`), so an app calls them unconditionally and pays nearly nothing when it runs
 * unobserved. Loading this module loads no package (only the vocabulary's own files), like the agent's preload.
 *
 * ```ts
 * import http from 'node:http';
 * import { markStage, STAGE } from 'srvlens';
 * http.createServer(async (req, res) => {
 *   markStage(res, STAGE.downstream); // from here the request waits on the database
 *   const rows = await db.query('...');
 *   markStage(res, STAGE.transform);
 *   res.end(render(rows));
 * });
 * ```
 */
export { STAGE, APP_STAGES, SEND_TIME_HEADER, TRACEPARENT_HEADER, type StageName, type AppStageName } from './vocabulary/parts.js';
export { beginRequest, endRequest, flushAgent, markStage, nameContext } from './vocabulary/stage-hook.js';
export { monoMs, monoUs } from './vocabulary/clock.js';
