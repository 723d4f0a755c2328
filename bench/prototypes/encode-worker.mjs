// Bootstrap of the pipeline prototype's worker threads: worker threads do not inherit tsx's loader, so register it
// here (as bin/coldtier.mjs does) and load the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./encode-worker.ts');
