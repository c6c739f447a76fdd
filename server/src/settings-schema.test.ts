// The REST schemas of federation settings (@mutua/proto/rest) and the coordinator's own
// settings (engine/settings.ts) must list the same fields: a setting the engine has but the
// schema lacks could never be set (the schema refuses unknown properties), and one the schema
// has but the engine lacks would be accepted and ignored.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AGGREGATION_KINDS } from '@mutua/core/aggregate';
import { AGGREGATION_NAMES as WIRE_AGGREGATION_NAMES } from '@mutua/proto';
import { SettingsInput, SettingsView } from '@mutua/proto/rest';
import type { TObject } from '@sinclair/typebox';
import { AGGREGATION_NAMES, DEFAULT_SETTINGS, resolveSettings, SettingsError } from './engine/settings.ts';

/** 'a', 'a.b', … for every leaf of a plain object (arrays are leaves). */
function leaves(value: object, prefix = ''): string[] {
  return Object.entries(value).flatMap(([k, v]) =>
    v && typeof v === 'object' && !Array.isArray(v) ? leaves(v, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

/** The same for a TypeBox object schema. */
function schemaLeaves(schema: TObject, prefix = ''): string[] {
  return Object.entries(schema.properties).flatMap(([k, s]) =>
    (s as { type?: unknown }).type === 'object' && 'properties' in s
      ? schemaLeaves(s as TObject, `${prefix}${k}.`)
      : [`${prefix}${k}`],
  );
}

describe('federation settings over REST', () => {
  it('the create schema offers every setting the engine has, and no other', () => {
    assert.deepEqual(schemaLeaves(SettingsInput).sort(), leaves(DEFAULT_SETTINGS).sort());
  });

  it('the response schema shows every setting', () => {
    assert.deepEqual(schemaLeaves(SettingsView).sort(), leaves(resolveSettings({})).sort());
  });

  it('the engine, the wire enum and core know the same aggregation rules', () => {
    assert.deepEqual([...AGGREGATION_NAMES], [...WIRE_AGGREGATION_NAMES]);
    assert.deepEqual([...AGGREGATION_NAMES].sort(), [...AGGREGATION_KINDS].sort());
    for (const aggregation of AGGREGATION_NAMES)
      assert.equal(resolveSettings({ aggregation }).aggregation, aggregation);
  });

  it('distillEpochs: 4 by default (with batchSize 1000), an integer in [0, 100], else a coded error', () => {
    assert.equal(resolveSettings({}).distillEpochs, 4);
    assert.equal(resolveSettings({}).batchSize, 1000);
    assert.equal(resolveSettings({ distillEpochs: 2 }).distillEpochs, 2);
    for (const bad of [-1, 1.5, 101, Number.NaN]) {
      assert.throws(
        () => resolveSettings({ distillEpochs: bad }),
        (e: unknown) =>
          e instanceof SettingsError &&
          e.code === 'MUTUA_ERR_BAD_SETTINGS' &&
          /distillEpochs/.test(e.message),
      );
    }
  });

  it('refuses an unknown aggregation with a coded error naming the choices', () => {
    assert.throws(
      () => resolveSettings({ aggregation: 'average' as never }),
      (e: unknown) =>
        e instanceof SettingsError &&
        e.code === 'MUTUA_ERR_BAD_SETTINGS' &&
        /aggregation must be one of .*agreement/.test(e.message),
    );
  });
});
