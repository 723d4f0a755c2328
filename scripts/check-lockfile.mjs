// Usage: node scripts/check-lockfile.mjs BEFORE.json AFTER.json
// After `npm install` stood in for `npm ci` (see .ci/run), checks that it installed exactly the locked versions:
// every package in both lockfiles has the same version and integrity, and the only entries added or dropped are
// optional ones (off-platform binaries such as @swc/core-darwin-*, which the registry in use may or may not describe).
import { readFileSync } from 'node:fs';

const [beforePath, afterPath] = process.argv.slice(2);
if (!beforePath || !afterPath) {
  console.error('usage: node scripts/check-lockfile.mjs BEFORE.json AFTER.json');
  process.exit(2);
}
const load = (p) => JSON.parse(readFileSync(p, 'utf8')).packages ?? {};
const before = load(beforePath);
const after = load(afterPath);

const problems = [];
for (const [path, a] of Object.entries(before)) {
  const b = after[path];
  if (!b) {
    if (!a.optional) problems.push(`${path || '(root)'}: dropped from the lockfile`);
  } else if (a.version !== b.version || (a.integrity && b.integrity && a.integrity !== b.integrity)) {
    problems.push(`${path || '(root)'}: locked ${a.version}, installed ${b.version}`);
  }
}
for (const [path, b] of Object.entries(after)) {
  if (!before[path] && !b.optional) problems.push(`${path}: installed ${b.version}, not in the lockfile`);
}
if (problems.length) {
  console.error(`check-lockfile: npm install did not honour package-lock.json (package.json and the lockfile are out of sync):`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.error('check-lockfile: npm install kept every locked version (only optional off-platform entries differ)');
