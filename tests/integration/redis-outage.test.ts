/**
 * The built server on a real redis-server of its own, which the test stops and restarts:
 * health turns degraded quickly and recovers by itself, without a restart of the app.
 */
import { expect, test } from 'vitest';
import { sleep } from '../helpers/processes.js';
import { serverForTests } from '../helpers/running';

const { server, redis } = serverForTests({ HEALTH_RATE_LIMIT: '1000/second' });

type Health = { status: string; services: Record<string, string> };

async function health(): Promise<{ status: number; body: Health; ms: number }> {
	const started = performance.now();
	const response = await fetch(`${server.url}/health/`);
	return {
		status: response.status,
		body: (await response.json()) as Health,
		ms: performance.now() - started
	};
}

/** Poll health until `done`, returning how long it took; fails past `limitMs`. */
async function pollUntil(
	done: (h: Awaited<ReturnType<typeof health>>) => boolean,
	limitMs: number
) {
	const started = Date.now();
	for (;;) {
		const result = await health();
		if (done(result)) return Date.now() - started;
		if (Date.now() - started > limitMs)
			throw new Error(`not reached within ${limitMs} ms: ${JSON.stringify(result.body)}`);
		await sleep(100);
	}
}

test('with Redis up, health is healthy with redis online', async () => {
	await pollUntil((h) => h.status === 200, 5000);
	const { body } = await health();
	expect(body.services).toEqual({
		redis: 'online',
		storage: 'online',
		scheduler: 'online',
		diceware: 'online'
	});
});

test('heartbeats and rate-limit counters live in Redis, with no raw address in the keys', async () => {
	const keys = await redis.client().keys('*');
	expect(keys.some((key) => key.startsWith('rz:heartbeat:scheduler:'))).toBe(true);
	expect(keys.some((key) => key.startsWith('rz:limit:health'))).toBe(true);
	expect(keys.join(' ')).not.toContain('127.0.0.1');
});

test('Redis stops: 503 degraded with redis offline, answered fast; Redis returns: 200 within 10 s', async () => {
	await redis.stop();
	const toDegraded = await pollUntil((h) => h.status === 503, 5000);
	const degraded = await health();
	expect(degraded.status).toBe(503);
	expect(degraded.body.status).toBe('degraded');
	expect(degraded.body.services.redis).toBe('offline');
	expect(degraded.ms).toBeLessThan(3000);
	expect(toDegraded).toBeLessThan(5000);

	await redis.start();
	const toRecovered = await pollUntil((h) => h.status === 200, 10_000);
	const recovered = await health();
	expect(recovered.body.services.redis).toBe('online');
	expect(recovered.body.status).toBe('healthy');
	expect(toRecovered).toBeLessThan(10_000);
	server.lines.push({
		event: 'test_measure',
		to_degraded_ms: toDegraded,
		to_recovered_ms: toRecovered
	});
	console.log(
		`redis outage: degraded after ${toDegraded} ms, healthy again ${toRecovered} ms after Redis returned`
	);
});
