// The table lock and its fence on a real Postgres (the shared test stack): busy for another holder, taken over from an
// earlier attempt of the same activity, a fenced-out commit refused in its transaction, the 64-bit key, the pooler
// probe on a direct connection, and permanent errors recognised by class.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPermanent } from '../src/activities';
import { ConfigError } from '../src/config/errors';
import { PoolerModeError, TableBusyError, TableFencedError } from '../src/db/errors';
import { lockKey } from '../src/db/lock-key';
import { migrate } from '../src/db/migrations';
import { openPool } from '../src/db/pool';
import { assertSessionPinning } from '../src/db/pooler';
import { withTableLock, type LockGuard } from '../src/db/table-lock';
import { IcebergArgumentError } from '../src/iceberg';
import { createTestDatabase } from './helpers/stack';
import { startTcpProxy } from './helpers/tcp-proxy';

const id = { catalog: 'c', namespace: 'cold', table: 't' };

test('lock keys are 64-bit, stable and distinct', () => {
  const a = lockKey('coldtier.offload:c.cold.t');
  assert.equal(a, lockKey('coldtier.offload:c.cold.t'));
  assert.notEqual(a, lockKey('coldtier.offload:c.cold.u'));
  const keys = new Set(Array.from({ length: 10_000 }, (_, i) => lockKey(`coldtier.offload:c.cold.t${i}`)));
  assert.equal(keys.size, 10_000);
  assert.ok([...keys].some((k) => BigInt(k) > 2n ** 31n || BigInt(k) < -(2n ** 31n)), 'beyond 32 bits');
});

test('permanent errors are recognised by class, not by name', () => {
  assert.ok(isPermanent(new IcebergArgumentError('the table has delete files')));
  assert.ok(isPermanent(new ConfigError('x')));
  assert.ok(isPermanent(new PoolerModeError('x')));
  const impostor = Object.assign(new Error('x'), { name: 'ConfigError' });
  assert.equal(isPermanent(impostor), false);
  assert.equal(isPermanent(new TableBusyError('t')), false);
});

test('table lock: busy for another holder, taken over from an earlier attempt of the same activity, whose commit is then fenced out', async () => {
  const url = await createTestDatabase('lock');
  const pool = await openPool(url);
  try {
    await migrate(pool);
    await assertSessionPinning(url);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let first!: LockGuard;
    const gotFirst = new Promise<void>((resolve) => {
      void withTableLock(url, id, async (g) => {
        first = g;
        resolve();
        await held;
      }, { holder: { id: 'wf/run/1', attempt: 1 } }).catch(() => undefined);
    });
    await gotFirst;

    await assert.rejects(withTableLock(url, id, async () => undefined, { holder: { id: 'other/run/1', attempt: 1 } }), TableBusyError);

    // Attempt 2 of the same activity: Temporal gave up on attempt 1, so attempt 2 ends its lock session and takes over.
    const second = await withTableLock(url, id, async (g) => {
      const tx = await pool.connect();
      try {
        await tx.query('BEGIN');
        await g.checkFence(tx);
        await tx.query('COMMIT');
      } finally {
        tx.release();
      }
      return 'committed';
    }, { holder: { id: 'wf/run/1', attempt: 2 } });
    assert.equal(second, 'committed');

    // Attempt 1 learns it lost the lock (its session was ended) and its commit transaction is refused.
    await new Promise<void>((r) => (first.signal.aborted ? r() : first.signal.addEventListener('abort', () => r())));
    const tx = await pool.connect();
    try {
      await tx.query('BEGIN');
      await assert.rejects(first.checkFence(tx), /lost the table lock/);
      await tx.query('ROLLBACK');
    } finally {
      tx.release();
    }
    // The fence itself refuses, even when the attempt has not noticed (a silent partition): bypass its own flag.
    const tx2 = await pool.connect();
    try {
      await tx2.query('BEGIN');
      const { checkFence } = await import('../src/db/fence');
      await assert.rejects(checkFence(tx2, { ...id, purpose: 'offload' }, '1', lockKey(`coldtier.offload:c.cold.t`)), TableFencedError);
      await tx2.query('ROLLBACK');
    } finally {
      tx2.release();
    }
    release();
  } finally {
    await pool.end();
  }
});

test('table lock: an attempt whose lock connection is silently cut learns it from its liveness check and is stopped', async () => {
  const url = await createTestDatabase('lockcut');
  const pool = await openPool(url);
  const direct = new URL(url);
  const proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port) });
  try {
    await migrate(pool);
    const viaProxy = new URL(url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const started = Date.now();
    let cutAt = 0;
    const reason = await withTableLock(viaProxy.toString(), id, async (guard) => {
      assert.equal(proxy.cut(() => true), 1, 'the lock connection is the only one through the proxy');
      cutAt = Date.now();
      // Nothing else happens: no error, no close reaches the client. Only the lock's own check can notice.
      return new Promise<unknown>((resolve) => guard.signal.addEventListener('abort', () => resolve(guard.signal.reason)));
    }, { holder: { id: 'cut/run/1', attempt: 1 } });
    assert.match(String((reason as Error).message), /did not answer a liveness check/);
    console.log(`lock check noticed the silent cut after ${((Date.now() - cutAt) / 1000).toFixed(1)} s (lock held ${((cutAt - started) / 1000).toFixed(1)} s before)`);
  } finally {
    await proxy.close();
    await pool.end();
  }
});
