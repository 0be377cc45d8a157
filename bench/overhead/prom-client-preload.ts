/**
 * The overhead bench's anchor (issue 18): what an app pays for the most common instrumentation of a Node server,
 * prom-client with one labelled request-duration histogram observed per request, as prom-client's own example and
 * express-prom-bundle do it: the request's start time, then on its response's 'finish' one `observe` with the method,
 * the route and the status code as labels. `node --import <this file> app.js`; srvlens must cost less than this.
 *
 * The registry is not served: a scrape every 15 s costs next to nothing beside an observation per request, and the
 * bench asks for the histogram's count over IPC instead, to check that every response was observed.
 */
import dc from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import client from 'prom-client';
import { PROM_COUNT_QUERY, type PromCountReport } from './prom-client-ipc.js';

const duration = new client.Histogram({
  name: 'http_request_duration_seconds',
  help: 'Duration of HTTP requests in seconds',
  labelNames: ['method', 'route', 'status_code'],
  buckets: [0.001, 0.005, 0.015, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 1, 5],
});

dc.subscribe('http.server.request.start', (message) => {
  const { request, response } = message as { request: IncomingMessage; response: ServerResponse };
  const end = duration.startTimer();
  response.once('finish', () => end({ method: request.method, route: request.url, status_code: response.statusCode }));
});

// Only a forked app has a channel to answer on; started by hand, the preload just observes.
process.on('message', (m: { type?: string }) => {
  if (m?.type !== PROM_COUNT_QUERY) return;
  void duration.get().then((metric) => {
    const observed = metric.values.filter((v) => v.metricName === 'http_request_duration_seconds_count').reduce((n, v) => n + v.value, 0);
    const report: PromCountReport = { type: 'prom-count', observed };
    if (process.connected) process.send?.(report);
  });
});
