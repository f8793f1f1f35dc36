/**
 * A sentinel-managed primary fails over under traffic (issue #15, item 3): the built server on
 * a primary + replica + 3 sentinels (tests/helpers/redis-ha.js), six clients uploading and
 * downloading without a pause, and the primary replaced mid-traffic, planned (SENTINEL
 * FAILOVER) and by a SIGKILL. Every drop answered 201 must be there afterwards (its status by
 * access key, its bytes), uploads must answer 201 again within 15 s without help, and the
 * only 5xx allowed is 503 with a JSON error. Each case gets a topology of its own: the
 * sentinels refuse a second failover of one primary within twice the failover timeout.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startServer, stopProcess, waitFor } from '../helpers/processes.js';
import type { TestServer } from '../helpers/processes.js';
import { ask, startSentinelRedis, type SentinelRedis } from '../helpers/redis-ha.js';
import { FAILOVER_ENV, failOverUnderTraffic, RECOVERY_BOUND_MS } from './support';

const PASSWORD = 'failover-test-password';

type Setup = { redis: SentinelRedis; server: TestServer };
let planned: Setup;
let killed: Setup;

async function setUp(): Promise<Setup> {
	// A split vote among the sentinels is retried after twice the failover timeout: 6 s, not
	// the helper's 20 s (seen once in ten runs with 10 s: no primary within 15 s of a kill).
	const redis = await startSentinelRedis({ password: PASSWORD, failoverTimeoutMs: 3_000 });
	const server = await startServer({ ...FAILOVER_ENV, ...redis.env });
	return { redis, server };
}

beforeAll(async () => {
	[planned, killed] = await Promise.all([setUp(), setUp()]);
}, 90_000);

afterAll(async () => {
	for (const setup of [planned, killed]) {
		await setup?.server.stop();
		await setup?.redis.stop();
	}
}, 30_000);

test('SENTINEL FAILOVER under traffic: no drop answered 201 is lost, uploads recover by themselves', async () => {
	const { lost } = await failOverUnderTraffic('Sentinel', 'planned', planned.server, async () => {
		await planned.redis.failover();
	});
	expect(lost).toEqual([]);
});

test('the primary SIGKILLed under traffic: no drop answered 201 is lost, uploads recover by themselves', async () => {
	const { redis } = killed;
	const before = await redis.primary();
	const { lost } = await failOverUnderTraffic(
		'Sentinel',
		'primary SIGKILLed',
		killed.server,
		async () => {
			await stopProcess(redis.processOf(before.port)!, 'SIGKILL');
			// Until the sentinels agree on a new primary that takes writes (the replica).
			await waitFor(
				async () => {
					try {
						const now = await redis.primary();
						if (now.port === before.port) return false;
						const role = (await ask(now.port, PASSWORD, ['ROLE'])) as unknown[];
						return role[0] === 'master';
					} catch {
						return false;
					}
				},
				RECOVERY_BOUND_MS,
				'the sentinels promote the replica',
				100
			);
		}
	);
	expect(lost).toEqual([]);
});
