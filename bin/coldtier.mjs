#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so there is no build step to forget.
import { register } from 'tsx/esm/api';

// The AWS SDK warns on every start that future releases will need Node 22; the pinned SDK works on Node 20.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0]?.type;
  if (type === 'NodeVersionSupportWarning') return;
  emitWarning(warning, ...rest);
};

register();
await import('../src/cli/main.ts');
