// Static checks of what operators deploy: the Grafana dashboard and Prometheus alert rules reference only metrics
// coldtier exports, and temporal-docker-compose.yml is well-formed (pinned images, ports, healthchecks, and only
// environment variables the config loader reads). No Docker needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { ENV_VARS } from '../src/config/settings';
import { METRIC_NAMES, registry } from '../src/metrics/registry';
import { SDK_METRIC_NAMES } from '../src/metrics/server';

const root = resolve(import.meta.dirname, '..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');

/** Metrics Prometheus itself provides for every target. */
const PROMETHEUS_BUILTINS = ['up'];
const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'inf', 'nan', 'le']);

/**
 * The metric names a PromQL expression reads: identifiers outside label matchers, ranges, grouping clauses and
 * strings that are neither functions, keywords nor numbers.
 */
function metricNames(expr: string): string[] {
  const stripped = expr
    // Grafana's label_values(metric, label) template query reads `metric`.
    .replace(/label_values\(\s*([^,)]+?)\s*,[^)]*\)/g, ' $1 ')
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[a-zA-Z_:][\w:]*(?=\s*(\()?)/g)) {
    const word = m[0];
    if (m[1] || KEYWORDS.has(word.toLowerCase()) || /^\d/.test(word)) continue;
    // A Go-template/Grafana variable or a duration like 5m never reaches here: both were inside [] or strings.
    names.add(word);
  }
  return [...names];
}

async function exported(): Promise<Set<string>> {
  const ours = (await registry.getMetricsAsJSON()).flatMap((m) =>
    String(m.type) === 'histogram' ? [m.name, `${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name],
  );
  // The SDK's names are checked against a live worker in test/metrics.test.ts; its histograms have _bucket etc.
  const sdk = SDK_METRIC_NAMES.flatMap((n) => [n, `${n}_bucket`, `${n}_sum`, `${n}_count`]);
  return new Set([...ours, ...sdk, ...PROMETHEUS_BUILTINS]);
}

test('metricNames reads PromQL the way Prometheus does', () => {
  assert.deepEqual(metricNames('histogram_quantile(0.95, sum by (le, table) (rate(coldtier_offload_duration_seconds_bucket{table=~"$table"}[1h])))'), [
    'coldtier_offload_duration_seconds_bucket',
  ]);
  assert.deepEqual(
    metricNames('sum by (table) (increase(a_total{result="failed"}[1h])) >= 3 unless on (table) sum by (table) (increase(b_total[1h])) > 0'),
    ['a_total', 'b_total'],
  );
  assert.deepEqual(metricNames('max by (table) (coldtier_watermark_timestamp_seconds) * 1000'), ['coldtier_watermark_timestamp_seconds']);
  assert.deepEqual(metricNames('label_values(coldtier_offload_rows_total, table)'), ['coldtier_offload_rows_total']);
});

test('the Grafana dashboard uses only exported metrics and shows each of ours', async () => {
  const known = await exported();
  const dash = JSON.parse(read('deploy/grafana/coldtier.json')) as {
    uid: string;
    panels: { id: number; type: string; title: string; targets?: { expr: string }[]; gridPos: { x: number; y: number; w: number; h: number } }[];
    templating: { list: { name: string; definition?: string }[] };
  };
  assert.equal(dash.uid, 'coldtier');
  const exprs = [...dash.panels.flatMap((p) => p.targets?.map((t) => t.expr) ?? []), ...dash.templating.list.flatMap((v) => (v.definition ? [v.definition] : []))];
  assert.ok(exprs.length >= 15);
  const used = new Set(exprs.flatMap(metricNames));
  for (const name of used) assert.ok(known.has(name), `dashboard references ${name}, which coldtier does not export`);
  const base = (n: string) => n.replace(/_(bucket|sum|count)$/, '');
  for (const name of METRIC_NAMES) assert.ok([...used].some((u) => base(u) === name), `dashboard has no panel for ${name}`);
  for (const p of dash.panels.filter((x) => x.type !== 'row')) assert.ok(p.targets?.length, `panel ${p.title} has a query`);
  // Grafana keys panels by id and stacks overlapping ones: every id once, no two panels on the same cells.
  assert.equal(new Set(dash.panels.map((p) => p.id)).size, dash.panels.length, 'panel ids are unique');
  const cells = new Map<string, string>();
  for (const p of dash.panels) {
    const g = p.gridPos;
    assert.ok(g.x + g.w <= 24, `panel ${p.title} fits the 24-column grid`);
    for (let x = g.x; x < g.x + g.w; x++) for (let y = g.y; y < g.y + g.h; y++) {
      const other = cells.get(`${x},${y}`);
      assert.ok(!other, `panels ${other} and ${p.title} overlap`);
      cells.set(`${x},${y}`, p.title);
    }
  }
});

test('the alert rules use only exported metrics and cover lag, missing data and repeated failures', async () => {
  const known = await exported();
  const doc = parse(read('deploy/prometheus/alerts.yml')) as { groups: { name: string; rules: { alert: string; expr: string; for?: string; labels: { severity: string }; annotations: Record<string, string> }[] }[] };
  const rules = doc.groups.flatMap((g) => g.rules);
  for (const r of rules) {
    for (const name of metricNames(r.expr)) assert.ok(known.has(name), `alert ${r.alert} references ${name}, which coldtier does not export`);
    assert.match(r.labels.severity, /^(warning|critical)$/);
    assert.ok(r.annotations.summary && r.annotations.description, `${r.alert} explains itself`);
  }
  const by = new Map(rules.map((r) => [r.alert, r]));
  assert.match(by.get('ColdtierOffloadLagHigh')!.expr, /coldtier_watermark_lag_seconds\) > 1800$/);
  assert.match(by.get('ColdtierAuditMissingData')!.expr, /coldtier_audit_status\{status="missing_data"\}/);
  assert.match(by.get('ColdtierAuditWrongData')!.expr, /coldtier_audit_status\{status=~"duplicate_data\|mismatch"\}/);
  assert.match(by.get('ColdtierTtlHeadroomLow')!.expr, /^min by \(table\) \(coldtier_ttl_headroom_seconds\) < clamp_max\(0\.25 \* max by \(table\) \(coldtier_source_ttl_seconds\), 259200\)$/);
  assert.match(by.get('ColdtierOffloadFailing')!.expr, /coldtier_offload_runs_total\{result="failed"\}\[1h\]\)\) >= 3/);
  const prom = parse(read('deploy/prometheus/prometheus.yml')) as { rule_files: string[]; scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] };
  assert.deepEqual(prom.rule_files, ['/etc/prometheus/alerts.yml']);
  assert.equal(prom.scrape_configs[0]!.job_name, 'coldtier-worker', 'ColdtierWorkerDown selects this job');
});

interface Service {
  image: string;
  command?: string[] | string;
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  restart?: string;
}

const cmd = (s: Service): string => (Array.isArray(s.command) ? s.command.join(' ') : (s.command ?? ''));

test('temporal-docker-compose.yml: pinned images, ports, healthchecks, one-shot schedules apply, known env vars only', () => {
  const compose = parse(read('temporal-docker-compose.yml'), { maxAliasCount: 100, merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
  const services = compose.services;
  for (const name of ['postgres', 'temporal', 'temporal-ui', 'clickhouse', 'minio', 'coldtier-worker', 'coldtier-schedules', 'prometheus', 'grafana']) {
    assert.ok(services[name], `service ${name}`);
  }
  for (const [name, s] of Object.entries(services)) {
    const tag = /^[\w./-]+:([\w.-]+)@sha256:[0-9a-f]{64}$/.exec(s.image)?.[1];
    assert.ok(tag && tag !== 'latest' && /\d/.test(tag), `${name}: image ${s.image} is pinned to a version and a digest`);
    for (const [dep, d] of Object.entries(s.depends_on ?? {})) {
      assert.ok(services[dep], `${name} depends on unknown ${dep}`);
      if (d.condition === 'service_healthy') assert.ok(services[dep]!.healthcheck, `${name} waits for ${dep} to be healthy, which has no healthcheck`);
    }
    for (const v of s.volumes ?? []) {
      const src = v.split(':')[0]!;
      if (src.startsWith('.')) assert.ok(existsSync(join(root, src)), `${name} mounts ${src}, which does not exist`);
      else assert.ok(src in (compose.volumes ?? {}), `${name} uses undeclared volume ${src}`);
    }
  }
  const ports = (n: string) => services[n]!.ports ?? [];
  assert.deepEqual(ports('temporal'), ['7233:7233']);
  assert.deepEqual(ports('temporal-ui'), ['8233:8080']);
  assert.deepEqual(ports('coldtier-worker'), ['9464:9464']);
  assert.deepEqual(ports('prometheus'), ['9090:9090']);
  assert.deepEqual(ports('grafana'), ['3000:3000']);
  const published = Object.values(services).flatMap((s) => s.ports ?? []).map((p) => p.split(':')[0]);
  assert.equal(new Set(published).size, published.length, 'no host port published twice');
  for (const n of ['postgres', 'temporal', 'clickhouse', 'minio', 'coldtier-worker', 'prometheus', 'grafana']) assert.ok(services[n]!.healthcheck?.test.length, `${n} has a healthcheck`);

  // Every coldtier container sets only variables the config loader reads (a typo would be silently ignored).
  const coldtier = Object.entries(services).filter(([, s]) => cmd(s).includes('bin/coldtier.mjs'));
  assert.deepEqual(coldtier.map(([n]) => n).sort(), ['coldtier-catalog', 'coldtier-feed', 'coldtier-first-offload', 'coldtier-schedules', 'coldtier-worker']);
  for (const [name, s] of coldtier) {
    for (const key of Object.keys(s.environment ?? {})) assert.ok((ENV_VARS as readonly string[]).includes(key), `${name} sets ${key}, which the config loader does not read`);
    assert.ok(s.environment?.TEMPORAL_ADDRESS && s.environment.DATABASE_URL, `${name} has the connection settings`);
  }
  const schedules = services['coldtier-schedules']!;
  assert.match(cmd(schedules), /node bin\/coldtier\.mjs schedules apply$/);
  assert.equal(schedules.restart, 'no');
  assert.equal(schedules.depends_on?.temporal?.condition, 'service_healthy');
  assert.match(cmd(services['coldtier-worker']!), /worker --metrics-port 9464/);
  assert.match(cmd(services['coldtier-catalog']!), /coldtier\.mjs catalog --metrics-port 9465$/);
  assert.deepEqual(ports('coldtier-catalog'), ['8181:8181', '9465:9465']);
  const prom = parse(read('deploy/prometheus/prometheus.yml')) as { scrape_configs: { static_configs: { targets: string[] }[] }[] };
  assert.deepEqual(prom.scrape_configs[0]!.static_configs[0]!.targets, ['coldtier-worker:9464']);
  assert.deepEqual(prom.scrape_configs.map((c) => c.static_configs[0]!.targets[0]), ['coldtier-worker:9464', 'coldtier-catalog:9465']);

  // One install step: only coldtier-install runs npm, into a volume, and every coldtier service waits for it.
  const npm = Object.entries(services).filter(([, s]) => /\bnpm\b/.test(cmd(s)));
  assert.deepEqual(npm.map(([n]) => n), ['coldtier-install']);
  assert.equal(cmd(services['coldtier-install']!), 'npm ci --omit=dev --no-audit --no-fund');
  const waitsForInstall = (n: string, seen = new Set<string>()): boolean =>
    !seen.has(n) && Object.keys(services[n]!.depends_on ?? {}).some((d) => d === 'coldtier-install' || waitsForInstall(d, seen.add(n)));
  for (const [name] of coldtier) {
    assert.ok(waitsForInstall(name), `${name} waits for coldtier-install`);
    assert.ok(services[name]!.volumes?.includes('coldtier-node-modules:/app/node_modules'), `${name} uses the installed node_modules`);
  }
  // The first offload has rows: the feed creates the source tables first.
  assert.equal(services['coldtier-first-offload']!.depends_on?.['coldtier-feed']?.condition, 'service_completed_successfully');
  // Health checks with tools the images ship (recent MinIO images have no curl).
  assert.deepEqual(services.minio!.healthcheck!.test, ['CMD', 'mc', 'ready', 'local']);
  for (const [name, s] of Object.entries(services)) assert.doesNotMatch((s.healthcheck?.test ?? []).join(' '), /\b(curl|tctl)\b/, `${name}'s healthcheck`);

  // The commands the coldtier services run are the commands the tests run, argument for argument.
  const tests = readdirSync(join(root, 'test')).filter((f) => f.endsWith('.test.ts')).map((f) => read(`test/${f}`)).join('\n');
  for (const [name, s] of coldtier) {
    const args = cmd(s).replace(/^node bin\/coldtier\.mjs /, '').split(' ');
    // Numbers (ports, row counts) may differ; the subcommand and its flags may not.
    const pattern = new RegExp(args.map((a) => (/^\d+$/.test(a) ? "[^,\\])]+" : `'${a.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'`)).join(',\\s*'));
    assert.match(tests, pattern, `${name} runs coldtier ${args.join(' ')}; no test runs it`);
  }

  // Every variable the file requires is in the README.
  const readme = read('README.md');
  const required = [...new Set([...read('temporal-docker-compose.yml').matchAll(/\$\{(\w+):\?/g)].map((m) => m[1]!))].sort();
  assert.deepEqual(required, ['CLICKHOUSE_PASSWORD', 'COLDTIER_CATALOG_TOKEN', 'GRAFANA_ADMIN_PASSWORD', 'MINIO_ROOT_PASSWORD', 'MINIO_ROOT_USER', 'POSTGRES_PASSWORD']);
  for (const v of required) assert.match(readme, new RegExp(`\`${v}\``), `README names ${v}`);
});
