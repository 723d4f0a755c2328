import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { WorkflowFailedError } from '@temporalio/client';
import type { MaintenanceWorkflowResult } from '../src/activities/types';
import { startOffload } from '../src/cli/offload';
import { getFreePort } from '../src/devstack/ports';
import { createBronzeTable, insertTrades } from '../src/feed/synthetic';
import { connectClient } from '../src/temporal/connection';
import { METRIC_NAMES } from '../src/metrics/registry';
import { SDK_METRIC_NAMES } from '../src/metrics/server';
import { bronzeTable, cliEnv, makeTestEnv, openChdb } from './helpers/coldtier';

const BIN = join(import.meta.dirname, '..', 'bin', 'coldtier.mjs');

async function waitFor(child: ChildProcess, pattern: RegExp, ms = 120_000): Promise<() => string> {
  let seen = '';
  child.stdout?.on('data', (b: Buffer) => (seen += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (seen += b.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (pattern.test(seen)) {
        clearInterval(timer);
        resolve();
      }
    }, 50);
    setTimeout(() => (clearInterval(timer), reject(new Error(`worker did not print ${pattern} in ${ms} ms:\n${seen}`))), ms).unref();
    child.once('exit', (code) => (clearInterval(timer), reject(new Error(`worker exited with ${code}:\n${seen}`))));
  });
  return () => seen;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text format: samples, and the metric families declared with # TYPE. */
function parse(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      assert.ok(!types.has(type[1]!), `metric family ${type[1]} declared twice`);
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/.exec(line);
    assert.ok(m, `not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

const familyOf = (name: string, types: Map<string, string>) =>
  types.has(name) ? name : name.replace(/_(bucket|sum|count|total)$/, (s) => (types.has(name.slice(0, -s.length)) ? '' : s));

test('worker --metrics-port serves the Temporal SDK metrics and coldtier metrics on /metrics after an offload and an audit', async () => {
  const env = await makeTestEnv({ warehouse: 's3', tables: (tag) => [bronzeTable(`bronze_trades_m${tag}`)] });
  const table = env.settings.tables[0]!.name;
  const configPath = join(env.dir, 'coldtier.config.yaml');
  writeFileSync(configPath, stringify({ tables: env.settings.tables }));
  const ch = await openChdb(env);
  await createBronzeTable(ch, table);
  await insertTrades(ch, table, { rows: 1234, exchange: 'kraken', spreadSeconds: 600 });
  await ch.close(); // chDB: one process per data directory, and the worker is another process

  const port = await getFreePort();
  const worker = spawn(process.execPath, [BIN, 'worker', '--metrics-port', String(port)], {
    env: { ...cliEnv(env, configPath), COLDTIER_LOG_LEVEL: 'WARN' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const output = await waitFor(worker, /polling task queue/);
    assert.match(output(), new RegExp(`coldtier worker metrics on http://127\\.0\\.0\\.1:${port}/metrics`));
    const url = `http://127.0.0.1:${port}/metrics`;

    // Before any offload: the table's counters already exist at 0 (so increase() sees the first offload).
    const before = parse(await (await fetch(url)).text());
    const at = (s: Sample[], name: string, labels: Record<string, string> = { table }) =>
      s.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v))?.value;
    assert.equal(at(before.samples, 'coldtier_offload_rows_total'), 0);
    assert.equal(at(before.samples, 'coldtier_offload_runs_total', { table, result: 'failed' }), 0);

    const result = await startOffload(env.settings, { wait: true, json: true });
    assert.equal(result?.tables[0]?.rows, 1234);
    // A failing run: an unknown table fails planning (non-retryable), so the workflow fails. Started with the plain
    // client: `coldtier offload` refuses unknown tables before starting anything.
    const client = await connectClient(env.settings.temporal);
    try {
      const bad = await client.workflow.start('offloadWorkflow', { taskQueue: env.settings.temporal.taskQueue, workflowId: `metrics-fail-${env.tag}`, args: [{ tables: ['no_such_table'] }] });
      await assert.rejects(bad.result(), WorkflowFailedError);
      // An audit over the hour of the offloaded rows: its verdict is a metric too.
      const windowEnd = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 3_600_000).toISOString();
      const audited = (await client.workflow.execute('maintenanceWorkflow', {
        taskQueue: env.settings.temporal.taskQueue,
        workflowId: `metrics-audit-${env.tag}`,
        args: [{ stages: ['audit'], auditWindowHours: 3, auditWindowEnd: windowEnd }],
      })) as MaintenanceWorkflowResult;
      assert.equal(audited.tables[0]!.audit!.status, 'ok');
      assert.equal(audited.tables[0]!.audit!.clickhouseRows, 1234);
    } finally {
      await client.connection.close();
    }

    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const { samples, types } = parse(await res.text());

    // Ours, with the numbers the offload produced.
    for (const name of METRIC_NAMES) assert.ok(types.has(name), `${name} exported`);
    assert.equal(at(samples, 'coldtier_offload_rows_total'), 1234);
    assert.equal(at(samples, 'coldtier_offload_bytes_total'), result!.tables[0]!.bytes);
    assert.ok(result!.tables[0]!.bytes > 0);
    assert.equal(at(samples, 'coldtier_offload_runs_total', { table, result: 'ok' }), 1);
    assert.equal(at(samples, 'coldtier_offload_duration_seconds_count'), 1);
    assert.equal(at(samples, 'coldtier_table_snapshots'), 1);
    assert.equal(at(samples, 'coldtier_table_data_files'), result!.tables[0]!.files);
    const lag = at(samples, 'coldtier_watermark_lag_seconds');
    assert.ok(lag !== undefined && lag >= 0 && lag < 3600, `lag ${lag}`);
    const wmTs = at(samples, 'coldtier_watermark_timestamp_seconds')!;
    assert.ok(Math.abs(Date.now() / 1000 - wmTs) < 3600, `watermark timestamp ${wmTs}`);
    assert.ok(types.has('coldtier_process_resident_memory_bytes'), 'process metrics');
    assert.equal(types.get('coldtier_audit_status'), 'gauge');
    assert.deepEqual(
      Object.fromEntries(['ok', 'warning', 'missing_data', 'error'].map((status) => [status, at(samples, 'coldtier_audit_status', { table, status })])),
      { ok: 1, warning: 0, missing_data: 0, error: 0 },
      'the latest audit status of the table is 1, the others 0',
    );

    // The Temporal SDK's runtime metrics, through the same port.
    for (const name of SDK_METRIC_NAMES) {
      assert.ok(familyOf(name, types) && samples.some((s) => s.name === name || s.name.startsWith(`${name}_`)), `SDK metric ${name} exported`);
    }
    const completed = samples.filter((s) => s.name === 'temporal_workflow_completed' && s.labels.workflow_type === 'offloadWorkflow');
    assert.equal(completed.reduce((a, s) => a + s.value, 0), 1);
    const failed = samples.filter((s) => s.name === 'temporal_workflow_failed' && s.labels.workflow_type === 'offloadWorkflow');
    assert.equal(failed.reduce((a, s) => a + s.value, 0), 1);

    assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 404);
  } finally {
    const exited = new Promise((r) => worker.once('exit', r));
    worker.kill('SIGTERM');
    await exited;
  }
});
