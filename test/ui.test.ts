// What an operator sees: the Temporal Web UI of the test stack's dev server, in a real (headless) Chromium,
// shows the two schedules and a completed scheduled offload with its summary and result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { OffloadWorkflowResult } from '../src/activities/types';
import { createBronzeTable, insertTrades } from '../src/feed/synthetic';
import { applySchedules } from '../src/schedules/apply';
import { scheduleIds } from '../src/schedules/definitions';
import { triggerSchedule } from '../src/schedules/operations';
import { connectClient } from '../src/temporal/connection';
import { createWorker, openServices } from '../src/worker';
import { bronzeTable, makeTestEnv } from './helpers/coldtier';
import { temporalUiUrl } from './helpers/stack';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Opens `path` of the UI and waits until `text` shows; on failure keeps a screenshot under test/.tmp. */
async function see(page: Page, url: string, texts: (string | RegExp)[], shot: string): Promise<void> {
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  try {
    for (const t of texts) await page.getByText(t).first().waitFor({ state: 'visible', timeout: 30_000 });
  } finally {
    await page.screenshot({ path: shot, fullPage: true }).catch(() => undefined);
  }
}

/** Waits until some frame of the page shows `text` (the UI renders summaries as Markdown in a sandboxed iframe). */
async function inAnyFrame(page: Page, text: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    for (const f of page.frames()) if ((await f.locator('body').innerText({ timeout: 1_000 }).catch(() => '')).includes(text)) return;
    if (Date.now() > deadline) throw new Error(`the page does not show "${text}" in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('the Temporal Web UI shows both schedules and a completed scheduled offload with its summary', async () => {
  const ui = temporalUiUrl();
  assert.ok(ui, 'COLDTIER_TEST_TEMPORAL_UI_URL is not set: run the tests through npm test, which starts the dev server with its Web UI');
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/ensure-tools.sh (apt-get install -y chromium)`);

  const env = await makeTestEnv({ warehouse: 'file', tables: (tag) => [bronzeTable(`bronze_trades_u${tag}`)] });
  const table = env.settings.tables[0]!.name;
  const ids = scheduleIds(`ui-${env.tag}`);
  const shots = join(env.dir, 'screenshots');
  mkdirSync(shots, { recursive: true });
  const services = await openServices(env.settings);
  const client = await connectClient(env.settings.temporal);
  let browser: Browser | undefined;
  try {
    await createBronzeTable(services.ch, table);
    await insertTrades(services.ch, table, { rows: 321, exchange: 'coinbase' });
    await applySchedules(client, env.settings, ids);
    const worker = await createWorker(env.settings, { services });
    const workflowId = await worker.runUntil(async () => {
      const r = await triggerSchedule(client, ids.offload);
      assert.ok(r.workflowId, 'the trigger started a run');
      const result = (await client.workflow.getHandle(r.workflowId).result()) as OffloadWorkflowResult;
      assert.equal(result.rows, 321);
      return r.workflowId;
    });

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
    const page = await browser.newPage({ viewport: { width: 1600, height: 1200 } });
    const ns = `${ui}/namespaces/${env.settings.temporal.namespace}`;

    // The schedule list, then one schedule: its workflow type and its recent run.
    await see(page, `${ns}/schedules`, [ids.offload, ids.maintenance], join(shots, 'schedules.png'));
    await see(page, `${ns}/schedules/${ids.offload}`, [ids.offload, 'offloadWorkflow', workflowId, /Every 15 minutes/, '10 minutes'], join(shots, 'schedule-offload.png'));
    assert.match(await page.locator('body').innerText(), /Overlap Policy\s+Skip/);
    await see(page, `${ns}/schedules/${ids.maintenance}`, [ids.maintenance, 'maintenanceWorkflow'], join(shots, 'schedule-maintenance.png'));

    // The completed run: status, the schedule that started it, and the result with the table's rows.
    await see(page, `${ns}/workflows/${encodeURIComponent(workflowId)}`, [workflowId, /^\s*Completed\s*$/, 'Scheduled By', `"table": "${table}"`], join(shots, 'workflow.png'));
    const body = await page.locator('body').innerText();
    assert.match(body, /offloadWorkflow/);
    assert.match(body, /"rows": 321/, 'the result shows the rows offloaded');
    // Its summary (set by the schedule's action) and the searchable attributes the workflow upserted.
    await page.getByRole('tab', { name: 'User Metadata' }).or(page.getByText('User Metadata', { exact: true })).first().click();
    await inAnyFrame(page, `scheduled offload of all 1 tables (${ids.offload})`);
    await page.screenshot({ path: join(shots, 'workflow-metadata.png'), fullPage: true });

    // The run's current details (a Markdown table per table) fits the page at 1440 px: no cell runs into the next
    // (issue 17 saw "committed50000009"), nothing is cut off at the right edge. The UI reads current details with a
    // query, which a worker answers (replaying the completed run): run one while the page asks.
    interface Box { right: number; width: number; scroll: number; client: number; cells: number }
    // Runs in the page (no DOM types here): the table that holds this run's table name and the watermark column.
    const script = `(() => {
      const t = [...document.querySelectorAll('table')].find((x) => x.innerText.includes(${JSON.stringify(table)}) && /watermark/.test(x.innerText));
      if (!t) return null;
      const r = t.getBoundingClientRect();
      return { right: r.right, width: window.innerWidth, scroll: t.scrollWidth, client: t.clientWidth, cells: t.querySelectorAll('tbody td').length };
    })()`;
    const found: Box[] = [];
    const answering = await createWorker(env.settings, { services });
    await answering.runUntil(async () => {
      await page.setViewportSize({ width: 1440, height: 1000 });
      const deadline = Date.now() + 60_000;
      while (!found.length && Date.now() < deadline) {
        await page.goto(`${ns}/workflows/${encodeURIComponent(workflowId)}`, { waitUntil: 'domcontentloaded' });
        await page.getByRole('tab', { name: 'User Metadata' }).or(page.getByText('User Metadata', { exact: true })).first().click();
        const tryUntil = Date.now() + 10_000;
        while (!found.length && Date.now() < tryUntil) {
          for (const f of page.frames()) {
            const m = (await f.evaluate(script).catch(() => null)) as Box | null;
            if (m) found.push(m);
          }
          if (!found.length) await new Promise((r) => setTimeout(r, 250));
        }
      }
    });
    await page.screenshot({ path: join(shots, 'workflow-details-1440.png'), fullPage: true });
    const measured = found[0];
    assert.ok(measured, 'the current details table is on the page');
    assert.equal(measured.cells, 6, 'one row of six cells: table, status, rows, files, watermark, note');
    assert.ok(measured.right <= measured.width, `the details table ends at ${measured.right} px, past the ${measured.width} px frame`);
    assert.ok(measured.scroll <= measured.client + 1, `the details table overflows its box (${measured.scroll} > ${measured.client})`);
    await page.getByRole('tab', { name: 'Search Attributes' }).or(page.getByText('Search Attributes', { exact: true })).first().click();
    await page.getByText('ColdtierStatus').first().waitFor({ state: 'visible', timeout: 30_000 });
    await page.screenshot({ path: join(shots, 'workflow-search-attributes.png'), fullPage: true });
    const attrs = await page.locator('body').innerText();
    assert.match(attrs, /"ColdtierStatus": "ok"/);
    assert.match(attrs, /ColdtierTables/);
    assert.match(attrs, new RegExp(table));
  } finally {
    await browser?.close();
    for (const id of Object.values(ids)) await client.schedule.getHandle(id).delete().catch(() => undefined);
    await client.connection.close();
    await services.close();
  }
});
