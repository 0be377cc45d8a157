/** Apps of a user's, as source text, for tests that run them under the real agent. */
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/vocabulary/package-paths.js';

/**
 * A node:http app of known costs: `processMs` of CPU, then `downstreamMs` waiting on a timer it marks as downstream
 * (as a backend call would be), then the response. It prints its port on stdout.
 */
export function knownCostApp(processMs: number, downstreamMs: number): string {
  return `import http from 'node:http';
import { STAGE, markStage } from ${JSON.stringify(join(PACKAGE_ROOT, 'dist/src/vocabulary/index.js'))};
const spin = (ms) => { const end = performance.now() + ms; while (performance.now() < end); };
const server = http.createServer((req, res) => {
  spin(${processMs});
  markStage(res, STAGE.downstream);
  setTimeout(() => { markStage(res, STAGE.send); res.end('ok'); }, ${downstreamMs});
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;
}
