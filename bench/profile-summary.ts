// Prints the top self-time functions of a .cpuprofile (from `node --cpu-prof` or `npm run bench -- --profile`).
// Usage: tsx bench/profile-summary.ts FILE.cpuprofile [TOP]
import { readFileSync } from 'node:fs';
import { categoryTimes, selfTimes, type CpuProfile } from './lib/profile';

const [file, top] = process.argv.slice(2);
if (!file) {
  console.error('usage: tsx bench/profile-summary.ts FILE.cpuprofile [TOP]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
console.log('| self ms | % of wall | function | where |\n|---|---|---|---|');
for (const e of selfTimes(profile, Number(top ?? 20))) console.log(`| ${e.ms.toFixed(0)} | ${e.pct.toFixed(1)} | ${e.fn} | ${e.where} |`);
console.log('\n| self ms | % | category |\n|---|---|---|');
for (const c of categoryTimes(profile)) console.log(`| ${c.ms.toFixed(0)} | ${c.pct.toFixed(1)} | ${c.category} |`);
