// The service plugins declare what they need: registered without it, the app refuses to start.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import federationsService from './federations-service.ts';
import joinService from './join-service.ts';
import publicSetsService from './public-sets-service.ts';

describe('service plugins', () => {
  for (const [name, plugin, missing] of [
    ['federations', federationsService, 'mutua-database'],
    ['join', joinService, 'mutua-database'],
    ['public sets', publicSetsService, 'mutua-database'],
  ] as const) {
    it(`${name}: refuses to load without ${missing}`, async () => {
      const app = Fastify();
      app.register(plugin);
      await assert.rejects(
        async () => app.ready(),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'FST_ERR_PLUGIN_DEPENDENCY_NOT_REGISTERED');
          assert.match(err.message, new RegExp(missing));
          return true;
        },
      );
      await app.close();
    });
  }
});
