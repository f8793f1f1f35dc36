/**
 * The brute-force block is exact across instances (issue #12): two built servers share one
 * Redis, and one client's burst of unknown guesses split across them gets exactly
 * DOWNLOAD_FAIL_LIMIT answers; counting after the lookup let each instance's concurrent
 * lookups pass the check together (13 guesses of 11 allowed, measured before).
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { json, request, upload } from '../helpers/http';
import { startRedis, startServer } from '../helpers/processes.js';
import type { TestRedis, TestServer } from '../helpers/processes.js';
import { unknownPassphrase } from '../resilience/support';

const FAIL_LIMIT = 10;

let redis: TestRedis;
let a: TestServer;
let b: TestServer;

beforeAll(async () => {
	redis = await startRedis();
	const env = {
		REDIS_URL: redis.url,
		DOWNLOAD_FAIL_LIMIT: String(FAIL_LIMIT),
		LOOKUP_RATE_LIMIT: '10000/minute'
	};
	a = await startServer(env);
	b = await startServer(env);
});

afterAll(async () => {
	await Promise.all([a?.stop(), b?.stop()]);
	await redis?.stop();
});

const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;

test('40 concurrent unknown guesses from one client over two instances: exactly DOWNLOAD_FAIL_LIMIT answered', async () => {
	const from = '127.0.8.1';
	const replies = await Promise.all(
		Array.from({ length: 40 }, (_, i) =>
			request(`${(i % 2 ? a : b).url}/status/${unknownPassphrase()}`, { from })
		)
	);
	const statuses = replies.map((reply) => reply.status);
	expect(count(statuses, 404)).toBe(FAIL_LIMIT);
	expect(count(statuses, 429)).toBe(40 - FAIL_LIMIT);
	for (const reply of replies.filter((reply) => reply.status === 429)) {
		expect(json(reply)).toMatchObject({ error_code: 'TOO_MANY_FAILED_LOOKUPS' });
	}
	// Blocked on both afterwards.
	for (const server of [a, b]) {
		expect((await request(`${server.url}/status/${unknownPassphrase()}`, { from })).status).toBe(
			429
		);
	}
});

test('lookups that find their drop give their guess back: the unknown ones still get exactly the limit', async () => {
	const from = '127.0.8.2';
	const created = await upload(a.url, { data: 'found' }, { uses: '5' }, { from });
	const { key } = json<{ key: string }>(created);
	const found = await Promise.all(
		Array.from({ length: 20 }, (_, i) => request(`${(i % 2 ? a : b).url}/status/${key}`, { from }))
	);
	expect(found.map((reply) => reply.status)).toEqual(Array(20).fill(200));
	const guesses = await Promise.all(
		Array.from({ length: 20 }, (_, i) =>
			request(`${(i % 2 ? a : b).url}/status/${unknownPassphrase()}`, { from })
		)
	);
	expect(
		count(
			guesses.map((reply) => reply.status),
			404
		)
	).toBe(FAIL_LIMIT);
});
