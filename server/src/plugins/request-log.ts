/**
 * One line per HTTP request, at debug: fastify's own two lines per request at info were
 * 2,846 of 2,851 lines of a session (the dashboard's polling, the health checks), and hid
 * the lifecycle events. Health checks and scrapes go to trace. buildApp() turns fastify's
 * request logging off (disableRequestLogging).
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

const QUIET = /^\/(healthz|metrics)(\?|$)/;

export default fp(
  async (app: FastifyInstance) => {
    app.addHook('onResponse', async (req, reply) => {
      const level = QUIET.test(req.url) ? 'trace' : 'debug';
      req.log[level](
        {
          method: req.method,
          url: req.url,
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
          remote: req.ip,
        },
        'request',
      );
    });
  },
  { name: 'mutua-request-log' },
);
