import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Total size and count of files under `dir` whose names end with `suffix`. */
export function filesUnder(dir: string, suffix = ''): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(suffix)) {
        files++;
        bytes += statSync(p).size;
      }
    }
  };
  walk(dir);
  return { files, bytes };
}
