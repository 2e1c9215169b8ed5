/**
 * Times every request into `rialto_http_request_duration_seconds` (labelled by the route's pattern, such as
 * `/api/v1/orders/:id`, or `unmatched` for requests no route took, so a scan of random URLs adds no series)
 * and serves the registry at `/metrics` in Prometheus's text format. The duration is fastify's own
 * (`reply.elapsedTime`, from the request's arrival to the response's end). `/metrics` exposes the venue's
 * internals: keep it off the public listener or behind the `authorize` check.
 */
import type { FastifyPluginCallback, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { GatewayError, HttpErrorCode } from '../http/plugins/index.js';
import type { BucketSeries } from './bucket-histogram.js';
import { statusClassOf, type VenueMetrics } from './metrics.js';

export interface MetricsPluginOptions {
  readonly metrics: VenueMetrics;
  /** Where the registry is served; null: not served (timing only). */
  readonly path?: string | null;
  /** Whether a request may read the metrics (for example, from the monitoring network only). */
  readonly authorize?: (request: FastifyRequest) => boolean;
}

export const UNMATCHED_ROUTE = 'unmatched';

const plugin: FastifyPluginCallback<MetricsPluginOptions> = (app, options, done) => {
  const { metrics } = options;
  const path = options.path === undefined ? '/metrics' : options.path;
  const authorize = options.authorize ?? (() => true);
  // Each route's series by method and status class, found without building or hashing a label object per
  // request (prom-client's observe did both: docs/performance.md).
  const seriesByRoute = new Map<string, Map<string, BucketSeries>>();
  app.addHook('onResponse', (request, reply, next) => {
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    const statusClass = statusClassOf(reply.statusCode);
    let byMethodAndClass = seriesByRoute.get(route);
    if (byMethodAndClass === undefined) {
      byMethodAndClass = new Map();
      seriesByRoute.set(route, byMethodAndClass);
    }
    const key = request.method + statusClass;
    let series = byMethodAndClass.get(key);
    if (series === undefined) {
      series = metrics.httpDuration.series({ method: request.method, route, status_class: statusClass });
      byMethodAndClass.set(key, series);
    }
    series.observe(reply.elapsedTime / 1000);
    next();
  });
  if (path !== null) {
    app.get(path, { logLevel: 'warn' }, async (request, reply) => {
      if (!authorize(request)) {
        throw new GatewayError(HttpErrorCode.Forbidden, 403, 'metrics are not available to this client');
      }
      const text = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).header('cache-control', 'no-store').send(text);
    });
  }
  done();
};

export const metricsPlugin = fp(plugin, { fastify: '5.x', name: 'rialto-metrics' });
