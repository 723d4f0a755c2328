import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FileIOError } from '../errors';
import type { FileInfo, FileIO } from './file-io';
import { parseUri } from './uri';

function localPath(uri: string): string {
  const parsed = parseUri(uri);
  if (parsed.scheme !== 'file') throw new FileIOError(uri, 'resolve', { cause: new Error('not a file:// URI') });
  return parsed.path;
}

function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && (err as { code: unknown }).code === 'ENOENT';
}

/** FileIO for `file://` URIs. Returned URIs use the `file://` + absolute path form. */
export function createLocalFileIO(): FileIO {
  return {
    async write(uri, data, opts) {
      if (opts?.signal?.aborted) throw opts.signal.reason;
      const path = localPath(uri);
      // Write then rename so a concurrent reader (or a crash) never sees a
      // half-written manifest or metadata file under its final name.
      const tmp = `${path}.${randomUUID()}.tmp`;
      try {
        await mkdir(dirname(path), { recursive: true });
        await writeFile(tmp, data, opts?.signal ? { signal: opts.signal } : {});
        await rename(tmp, path);
      } catch (cause) {
        await rm(tmp, { force: true }).catch(() => undefined);
        if (opts?.signal?.aborted) throw opts.signal.reason;
        throw new FileIOError(uri, 'write', { cause });
      }
    },
    async read(uri) {
      try {
        return new Uint8Array(await readFile(localPath(uri)));
      } catch (cause) {
        throw new FileIOError(uri, 'read', { cause });
      }
    },
    async exists(uri) {
      try {
        await stat(localPath(uri));
        return true;
      } catch (cause) {
        if (isNotFound(cause)) return false;
        throw new FileIOError(uri, 'exists', { cause });
      }
    },
    async delete(uri) {
      try {
        await rm(localPath(uri), { force: true });
      } catch (cause) {
        throw new FileIOError(uri, 'delete', { cause });
      }
    },
    async list(prefixUri) {
      const root = localPath(prefixUri).replace(/\/+$/, '');
      const out: FileInfo[] = [];
      const walk = async (dir: string): Promise<void> => {
        let entries;
        try {
          entries = await readdir(dir, { withFileTypes: true });
        } catch (cause) {
          if (isNotFound(cause)) return;
          throw new FileIOError(`file://${dir}`, 'list', { cause });
        }
        for (const entry of entries) {
          const full = join(dir, entry.name);
          if (entry.isDirectory()) await walk(full);
          else if (entry.isFile()) {
            const st = await stat(full);
            out.push({ uri: `file://${full}`, size: st.size, lastModified: st.mtime });
          }
        }
      };
      await walk(root);
      return out;
    },
    async abortStaleUploads() {
      return [];
    },
    async listNames(dirUri, namePrefix) {
      const dir = localPath(dirUri).replace(/\/+$/, '');
      try {
        return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() && e.name.startsWith(namePrefix)).map((e) => `file://${join(dir, e.name)}`);
      } catch (cause) {
        if (isNotFound(cause)) return [];
        throw new FileIOError(dirUri, 'list', { cause });
      }
    },
  };
}
