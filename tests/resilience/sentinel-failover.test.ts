/**
 * A sentinel-managed primary fails over under traffic (issue #15, item 3): the built server on
 * a primary + replica + 3 sentinels (tests/helpers/redis-ha.js), six clients uploading and
 * downloading without a pause, and the primary replaced mid-traffic, planned (SENTINEL
 * FAILOVER) and by a SIGKILL. Every drop answered 201 must be there afterwards (its status by
 * access key, its bytes), uploads must answer 201 again within 15 s without help, and the
 * only 5xx allowed is 503 with a JSON error. Each case gets a topology of its own: the
 * sentinels refuse a second failover of one primary within twice the failover timeout.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { encodeAccessKey } from '../../src/lib/server/crypto/access-key';
import { request, upload } from '../helpers/http';
import { sleep, startServer, stopProcess, waitFor } from '../helpers/processes.js';
import type { TestServer } from '../helpers/processes.js';
import { ask, startSentinelRedis, type SentinelRedis } from '../helpers/redis-ha.js';
import { FAILOVER_ENV, failOverUnderTraffic, RECOVERY_BOUND_MS } from './support';

const PASSWORD = 'failover-test-password';

type Setup = { redis: SentinelRedis; server: TestServer };
let planned: Setup;
let killed: Setup;
let hung: Setup;

async function setUp(downAfterMs?: number): Promise<Setup> {
	// A split vote among the sentinels is retried after twice the failover timeout: 6 s, not
	// the helper's 20 s (seen once in ten runs with 10 s: no primary within 15 s of a kill).
	const redis = await startSentinelRedis({
		password: PASSWORD,
		failoverTimeoutMs: 3_000,
		downAfterMs
	});
	const server = await startServer({ ...FAILOVER_ENV, ...redis.env });
	return { redis, server };
}

beforeAll(async () => {
	// The hung replica's sentinels take 30 s (their default) to mark it down: the test runs
	// inside that.
	[planned, killed, hung] = await Promise.all([setUp(), setUp(), setUp(30_000)]);
}, 90_000);

afterAll(async () => {
	for (const setup of [planned, killed, hung]) {
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

test('a hung replica holds up uploads (503 after the wait), never the lookups beside them', async () => {
	// A replica that stops answering but keeps its connection (a frozen VM, a partition) counts
	// as up until the sentinels mark it down. Each upload's WAIT then runs out (0.5 s); it
	// must do so on a connection of its own, or every lookup, claim and rate-limit counter
	// queued behind it waits too (before: lookups slowed to seconds and answered 503).
	const { redis, server } = hung;
	const primary = await redis.primary();
	const role = (await ask(primary.port, PASSWORD, ['ROLE'])) as [string, number, string[][]];
	const replica = redis.processOf(Number(role[2][0]![1]))!;
	const accessKey = encodeAccessKey(randomBytes(32));
	const byKey = { 'x-access-key': accessKey };
	const created = await upload(
		server.url,
		{ data: randomBytes(1024) },
		{ uses: '5' },
		{
			headers: byKey,
			from: '127.0.9.1'
		}
	);
	expect(created.status).toBe(201);

	replica.kill('SIGSTOP');
	try {
		let running = true;
		const uploading = Array.from({ length: 4 }, async (_, worker) => {
			const statuses: number[] = [];
			while (running) {
				const reply = await upload(
					server.url,
					{ data: randomBytes(2048) },
					{ uses: '1' },
					{
						headers: { 'x-access-key': encodeAccessKey(randomBytes(32)) },
						from: `127.0.9.${10 + worker}`
					}
				);
				statuses.push(reply.status);
			}
			return statuses;
		});
		const lookups: { ms: number; status: number }[] = [];
		for (const until = Date.now() + 4000; Date.now() < until;) {
			const startedAt = Date.now();
			const reply = await request(`${server.url}/status`, {
				method: 'POST',
				from: '127.0.9.2',
				headers: byKey
			});
			lookups.push({ ms: Date.now() - startedAt, status: reply.status });
			await sleep(50);
		}
		running = false;
		const uploads = (await Promise.all(uploading)).flat();
		const slowest = Math.max(...lookups.map(({ ms }) => ms));
		console.log(
			'Sentinel, a hung replica:',
			JSON.stringify({
				uploads: uploads.length,
				uploads_503: uploads.filter((status) => status === 503).length,
				lookups: lookups.length,
				lookups_not_200: lookups.filter(({ status }) => status !== 200).length,
				slowest_lookup_ms: slowest
			})
		);
		expect(uploads.length).toBeGreaterThan(0);
		expect(uploads.every((status) => status === 503)).toBe(true);
		expect(lookups.every(({ status }) => status === 200)).toBe(true);
		expect(slowest).toBeLessThan(400);
	} finally {
		replica.kill('SIGCONT');
	}
});
