// Replays the committed histories of real runs (test/histories/*.json, recorded by `npm run record-histories`)
// against today's workflow code. A failure here means a workflow change would break runs that are open when
// the new worker is deployed: guard the change with patched() (docs/operations.md) instead of re-recording.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { HistoryAndWorkflowId } from '@temporalio/client';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker, type ReplayResult } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../src/worker';
import './helpers/coldtier'; // installs the quiet logger (Runtime.install) before any worker exists

const root = resolve(import.meta.dirname, '..');
const historiesDir = join(root, 'test', 'histories');

function histories(): HistoryAndWorkflowId[] {
  return readdirSync(historiesDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ workflowId: f.replace(/\.json$/, ''), history: historyFromJSON(JSON.parse(readFileSync(join(historiesDir, f), 'utf8'))) }));
}

async function replay(workflowsPath: string, items: HistoryAndWorkflowId[]): Promise<ReplayResult[]> {
  const out: ReplayResult[] = [];
  for await (const r of Worker.runReplayHistories({ workflowsPath, replayName: 'coldtier-replay' }, items)) out.push(r);
  return out;
}

test('every recorded history replays on the current workflow code', async () => {
  const items = histories();
  const names = items.map((h) => h.workflowId);
  // The offload scenarios this file was written with; maintenance histories are added next to them.
  for (const n of ['offload-all-failed', 'offload-partial-failed-table', 'offload-retried-activity']) assert.ok(names.includes(n), `test/histories/${n}.json`);
  const retried = JSON.parse(readFileSync(join(historiesDir, 'offload-retried-activity.json'), 'utf8')) as {
    events: { eventType: string; activityTaskStartedEventAttributes?: { attempt?: number } }[];
  };
  assert.ok(retried.events.some((e) => e.activityTaskStartedEventAttributes?.attempt === 2), 'the retried history holds a second attempt');
  assert.ok(retried.events.some((e) => e.eventType === 'EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES'), 'search attribute upserts are part of the history');

  const results = await replay(WORKFLOWS_PATH, items);
  assert.equal(results.length, items.length);
  for (const r of results) assert.equal(r.error, undefined, `${r.workflowId}: ${r.error?.message ?? ''}`);
});

test('a non-deterministic change to a copy of the workflow fails replay', async () => {
  // A copy of src/workflows whose offloadWorkflow sleeps before planning: a timer where history has an activity.
  const dir = join(root, 'test', '.tmp', `replay-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  try {
    const src = join(root, 'src');
    for (const entry of readdirSync(src)) {
      if (entry !== 'workflows') symlinkSync(join(src, entry), join(dir, entry)); // so ../activities etc. resolve
    }
    cpSync(join(src, 'workflows'), join(dir, 'workflows'), { recursive: true });
    const file = join(dir, 'workflows', 'offload.ts');
    const original = readFileSync(file, 'utf8');
    const changed = original.replace(/(export async function offloadWorkflow\([^)]*\)[^{]*\{)/, "$1\n  await __sleep('1 second');");
    assert.notEqual(changed, original, 'found offloadWorkflow to change');
    writeFileSync(file, `import { sleep as __sleep } from '@temporalio/workflow';\n${changed}`);

    const items = histories().filter((h) => h.workflowId.startsWith('offload-'));
    const results = await replay(join(dir, 'workflows', 'index.ts'), items);
    assert.equal(results.length, items.length);
    for (const r of results) {
      assert.ok(r.error, `${r.workflowId} replayed although the workflow changed`);
      assert.equal(r.error.name, 'DeterminismViolationError', `${r.workflowId}: ${r.error.message}`);
      assert.match(r.error.message, /[Nn]ondeterminism|timer|activity/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

