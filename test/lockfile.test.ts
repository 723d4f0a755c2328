// `npm ci` on a fresh clone (issue 17): npm refuses a lockfile in which a locked package's dependency, optional ones
// included, has no entry ("Missing: @chdb/lib-darwin-arm64@ from lock file"), even when that package is for another
// platform and would never be installed here. Check what npm ci checks, without a network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Entry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

test('package-lock.json has an entry for every dependency of every locked package (what npm ci checks)', () => {
  const root = join(import.meta.dirname, '..');
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { lockfileVersion: number; packages: Record<string, Entry> };
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Entry;
  assert.equal(lock.lockfileVersion, 3);
  const missing: string[] = [];
  // Node's resolution: from the package's own node_modules up to the root's.
  const resolves = (from: string, name: string) => {
    for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
      if (lock.packages[`${dir ? `${dir}/` : ''}node_modules/${name}`]) return true;
      if (!dir) return false;
    }
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    const deps = { ...entry.dependencies, ...entry.optionalDependencies, ...(path === '' ? entry.devDependencies : {}) };
    for (const name of Object.keys(deps)) if (!resolves(path, name)) missing.push(`${path || '(root)'} → ${name}`);
  }
  assert.deepEqual(missing, [], 'dependencies without a lock entry (npm ci refuses the lockfile)');
  // The root entry matches package.json exactly.
  const rootEntry = lock.packages['']!;
  assert.deepEqual(rootEntry.dependencies, pkg.dependencies);
  assert.deepEqual(rootEntry.devDependencies, pkg.devDependencies);
});
