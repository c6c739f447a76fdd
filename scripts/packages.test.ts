// The workspaces' manifests against the tree: what they export and the commands they ship
// exist, and nothing that ships needs a TypeScript transpiler at run time (the bins run
// the JavaScript that scripts/build.mjs bundles into <package>/dist).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Manifest {
  name: string;
  workspaces?: string[];
  exports?: string | Record<string, string>;
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const read = (dir: string): Manifest => JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8'));
const root = read('.');
const workspaces = root.workspaces!.map((dir) => ({ dir, manifest: read(dir) }));
const byName = new Map(workspaces.map((w) => [w.manifest.name, w]));

/** Runtime dependencies of a workspace, following the workspaces it depends on. */
function runtimeDependencies(name: string, seen = new Set<string>()): Set<string> {
  const w = byName.get(name)!;
  for (const dep of Object.keys({ ...w.manifest.dependencies, ...w.manifest.optionalDependencies })) {
    if (seen.has(dep)) continue;
    seen.add(dep);
    if (byName.has(dep)) runtimeDependencies(dep, seen);
  }
  return seen;
}

describe('workspace manifests', () => {
  it('every export and every bin of every workspace is a file in the tree', () => {
    let checked = 0;
    for (const { dir, manifest } of workspaces) {
      const exports =
        typeof manifest.exports === 'string' ? { '.': manifest.exports } : (manifest.exports ?? {});
      for (const [key, target] of [...Object.entries(exports), ...Object.entries(manifest.bin ?? {})]) {
        assert.ok(existsSync(join(ROOT, dir, target)), `${manifest.name} "${key}" → ${target} exists`);
        checked++;
      }
    }
    assert.ok(checked > 10, `checked ${checked} entries`);
  });

  it('the shipped commands run built JavaScript: no tsx in the bins or in what they depend on at run time', () => {
    const shipping = workspaces.filter((w) => w.manifest.bin);
    assert.deepEqual(shipping.map((w) => w.manifest.name).sort(), ['@mutua/client-node', '@mutua/server']);
    for (const { dir, manifest } of shipping) {
      assert.ok(!runtimeDependencies(manifest.name).has('tsx'), `${manifest.name} needs no tsx at run time`);
      for (const [name, bin] of Object.entries(manifest.bin!)) {
        const text = readFileSync(join(ROOT, dir, bin), 'utf8');
        assert.doesNotMatch(text, /tsx|\.ts['"]/, `${name} (${bin}) loads no TypeScript`);
        assert.match(text, /\.\.\/dist\/[\w-]+\.js/, `${name} (${bin}) runs ${dir}/dist`);
      }
    }
  });
});
