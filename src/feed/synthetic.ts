import { qualified, type ClickHouse } from '../clickhouse/client';
import { GOLD_WINDOWS } from '../config/tables';

/**
 * A generated multi-exchange trade feed for the demo, the tests and the benchmark.
 * Deterministic per (seed, sequence) so tests can recompute what they inserted.
 */
export const EXCHANGES = ['binance', 'kraken', 'coinbase'] as const;
export type Exchange = (typeof EXCHANGES)[number];

export async function createBronzeTable(ch: ClickHouse, table: string): Promise<void> {
  const q = qualified(ch, table);
  await ch.command(`CREATE DATABASE IF NOT EXISTS \`${q.database}\``);
  await ch.command(`CREATE TABLE IF NOT EXISTS ${q.sql} (
    exchange LowCardinality(String),
    symbol LowCardinality(String),
    trade_id String,
    side LowCardinality(String),
    price Decimal(18, 8),
    quantity Decimal(18, 8),
    exchange_timestamp DateTime64(6, 'UTC'),
    ingested_at DateTime64(6, 'UTC') DEFAULT now64(6),
    sequence Int64
  ) ENGINE = MergeTree ORDER BY (ingested_at, sequence)
  TTL toDateTime(ingested_at) + INTERVAL 30 DAY`);
}

export interface InsertTradesOptions {
  rows: number;
  exchange: string;
  seed?: number;
  /** Event times are spread over [eventTimeEnd − spreadSeconds, eventTimeEnd]. @default now */
  eventTimeEnd?: Date;
  /** @default 3600 */
  spreadSeconds?: number;
}

/** Inserts `rows` trades in one INSERT (one ingested_at, increasing sequence). Returns the sequence range. */
export async function insertTrades(ch: ClickHouse, table: string, o: InsertTradesOptions): Promise<{ first: bigint; last: bigint }> {
  const q = qualified(ch, table);
  const [{ next }] = (await ch.json<{ next: string }>(`SELECT toString(coalesce(max(sequence), 0) + 1) AS next FROM ${q.sql}`)) as [{ next: string }];
  const end = (o.eventTimeEnd ?? new Date()).getTime() * 1000;
  const spread = (o.spreadSeconds ?? 3600) * 1_000_000;
  await ch.command(
    `INSERT INTO ${q.sql} (exchange, symbol, trade_id, side, price, quantity, exchange_timestamp, sequence)
     SELECT {exchange:String},
            ['BTC-USD', 'ETH-USD', 'SOL-USD', 'XRP-USD'][1 + cityHash64(number, {seed:UInt64}) % 4],
            concat({exchange:String}, '-', toString({base:Int64} + number)),
            if(cityHash64(number, {seed:UInt64}, 1) % 2 = 0, 'buy', 'sell'),
            toDecimal64(100 + (cityHash64(number, {seed:UInt64}, 2) % 5000000) / 100, 8),
            toDecimal64((1 + cityHash64(number, {seed:UInt64}, 3) % 1000000) / 100000000, 8),
            fromUnixTimestamp64Micro(toInt64({end:Int64} - (cityHash64(number, {seed:UInt64}, 4) % {spread:UInt64})), 'UTC'),
            {base:Int64} + number
     FROM numbers({rows:UInt64})`,
    { exchange: o.exchange, seed: o.seed ?? 42, base: next, end, spread: Math.max(1, spread), rows: o.rows },
  );
  return { first: BigInt(next), last: BigInt(next) + BigInt(o.rows) - 1n };
}

/**
 * The hot tier's silver and gold layers as K2 had them in ClickHouse: silver_trades is filled by materialized views
 * from the bronze feeds (same ingested_at), and each gold_ohlcv_<w> is a view rolling silver up into OHLCV windows.
 * Create the bronze tables first.
 */
export async function createSilverAndGold(ch: ClickHouse, exchanges: readonly string[] = EXCHANGES): Promise<void> {
  const silver = qualified(ch, 'silver_trades');
  await ch.command(`CREATE TABLE IF NOT EXISTS ${silver.sql} (
    exchange String,
    symbol LowCardinality(String),
    trade_id String,
    side LowCardinality(String),
    price Decimal(18, 8),
    quantity Decimal(18, 8),
    notional Decimal(38, 16),
    exchange_timestamp DateTime64(6, 'UTC'),
    ingested_at DateTime64(6, 'UTC'),
    sequence Int64
  ) ENGINE = MergeTree ORDER BY (ingested_at, exchange, sequence)
  TTL toDateTime(ingested_at) + INTERVAL 30 DAY`);
  for (const ex of exchanges) {
    const bronze = qualified(ch, `bronze_trades_${ex}`);
    await ch.command(`CREATE MATERIALIZED VIEW IF NOT EXISTS ${qualified(ch, `silver_from_${ex}`).sql} TO ${silver.sql} AS
      SELECT exchange, symbol, trade_id, side, price, quantity, toDecimal128(price * quantity, 16) AS notional,
             exchange_timestamp, ingested_at, sequence
      FROM ${bronze.sql}`);
  }
  for (const [label, seconds] of GOLD_WINDOWS) {
    await ch.command(`CREATE VIEW IF NOT EXISTS ${qualified(ch, `gold_ohlcv_${label}`).sql} AS
      SELECT exchange, symbol,
             toDateTime64(toStartOfInterval(exchange_timestamp, toIntervalSecond(${seconds}), 'UTC'), 6, 'UTC') AS window_start,
             argMin(price, (exchange_timestamp, sequence)) AS open,
             max(price) AS high,
             min(price) AS low,
             argMax(price, (exchange_timestamp, sequence)) AS close,
             sum(quantity) AS volume,
             sum(notional) AS notional,
             toInt64(count()) AS trade_count
      FROM ${silver.sql}
      GROUP BY exchange, symbol, window_start`);
  }
}
