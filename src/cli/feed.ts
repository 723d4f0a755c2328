import { openClickHouse } from '../clickhouse/client';
import type { Settings } from '../config/settings';
import { createBronzeTable, createSilverAndGold, EXCHANGES, insertTrades } from '../feed/synthetic';

/**
 * Creates the ClickHouse source tables the default registry reads (three bronze feeds, silver_trades fed from them by
 * materialized views, the six gold OHLCV views) if they do not exist, and inserts `rows` synthetic trades for binance
 * (a tenth for kraken, a quarter for coinbase) spread over two days, so the gold windows up to the daily one close.
 * Used by the demo and by the compose file's one-shot `coldtier-feed` service.
 */
export async function generateFeed(settings: Settings, rows: number): Promise<Record<string, number>> {
  const ch = await openClickHouse(settings.clickhouse);
  try {
    const sizes = { binance: rows, kraken: Math.ceil(rows / 10), coinbase: Math.ceil(rows / 4) };
    for (const ex of EXCHANGES) await createBronzeTable(ch, `bronze_trades_${ex}`);
    // silver is fed from bronze by materialized views, so create it before inserting; gold views roll silver up.
    await createSilverAndGold(ch);
    if (rows > 0) for (const ex of EXCHANGES) await insertTrades(ch, `bronze_trades_${ex}`, { rows: sizes[ex], exchange: ex, spreadSeconds: 2 * 86_400 });
    return rows > 0 ? sizes : { binance: 0, kraken: 0, coinbase: 0 };
  } finally {
    await ch.close();
  }
}
