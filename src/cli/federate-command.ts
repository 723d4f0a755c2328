import type { Settings } from '../config/settings';
import { openServices } from '../worker';
import { applyViews, checkViews, printViews, type FederateOptions } from '../clickhouse/federated-views';

/** `coldtier federate`: returns the exit code (1 when --check finds a difference). */
export async function runFederate(s: Settings, o: FederateOptions & { print?: boolean; apply?: boolean; check?: boolean }): Promise<number> {
  if ([o.print, o.apply, o.check].filter(Boolean).length > 1) throw new Error('federate: give one of --print, --apply or --check');
  const services = await openServices(s);
  try {
    if (o.print) {
      console.log(await printViews(s, services, o));
      return 0;
    }
    if (o.check) {
      const results = await checkViews(s, services, o);
      for (const r of results) console.log(`${r.view}: ${r.status}: ${r.detail}`);
      return results.every((r) => r.status === 'ok') ? 0 : 1;
    }
    for (const p of await applyViews(s, services, o)) {
      const pin = p.view.pin;
      console.log(`${p.view.name}: ${pin.key ? `Iceberg up to (${pin.key.join(', ')}) pinned to ${pin.metadata}, ClickHouse above` : 'nothing offloaded yet: the hot table alone'}`);
    }
    return 0;
  } finally {
    await services.close();
  }
}
