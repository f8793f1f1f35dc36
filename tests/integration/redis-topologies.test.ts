/**
 * The built server on the two distributed Redis topologies, started by this file from
 * Debian's redis-server (tests/helpers/redis-ha.js): a primary behind three sentinels
 * (REDIS_SENTINELS) and a three-master Cluster (REDIS_CLUSTER_NODES), both with a password
 * (REDIS_PASSWORD). The store's own contract runs on both in tests/unit/store-contract.test.ts;
 * here the whole service does: a drop's life, the rate limits and the brute-force block, whose
 * counters rate-limiter-flexible keeps on the same client.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { json, request, upload } from '../helpers/http';
import { startServer } from '../helpers/processes.js';
import type { TestServer } from '../helpers/processes.js';
import { startRedisCluster, startSentinelRedis } from '../helpers/redis-ha.js';

const PASSWORD = 'topology-test-password';

const topologies = [
	['sentinel', () => startSentinelRedis({ password: PASSWORD })],
	['cluster', () => startRedisCluster({ password: PASSWORD })]
] as const;

describe.each(topologies)('the service on Redis %s', (_, startTopology) => {
	let topology: Awaited<ReturnType<(typeof topologies)[number][1]>> | undefined;
	let server: TestServer | undefined;
	let nextClient = 10;
	const client = () => `127.0.0.${nextClient++}`;
	const running = () => server!;

	beforeAll(async () => {
		topology = await startTopology();
		server = await startServer({
			...topology.env,
			UPLOAD_RATE_LIMIT: '2/minute',
			DOWNLOAD_FAIL_LIMIT: '3'
		});
	}, 90_000);

	afterAll(async () => {
		await server?.stop();
		await topology?.stop();
	}, 30_000);

	test('health says Redis is online', async () => {
		const reply = await request(`${running().url}/health/`, { from: client() });
		expect(reply.status).toBe(200);
		expect(json(reply)).toMatchObject({ services: { redis: 'online' } });
	});

	test('a drop uploads, downloads byte for byte, and is burned by its last use', async () => {
		const from = client();
		const data = randomBytes(300 * 1024);
		const created = await upload(running().url, { data }, { uses: '1' }, { from });
		expect(created.status, created.body.toString()).toBe(201);
		const { key } = json<{ key: string }>(created);
		const download = await request(`${running().url}/download/${key}`, { from });
		expect(download.status).toBe(200);
		expect(download.body.equals(data)).toBe(true);
		const status = await request(`${running().url}/status/${key}`, { from });
		expect(json(status)).toMatchObject({ status: 'burned' });
		expect((await request(`${running().url}/download/${key}`, { from })).status).toBe(410);
	});

	test('UPLOAD_RATE_LIMIT holds: the third upload in a minute is 429', async () => {
		const from = client();
		const statuses: number[] = [];
		for (let i = 0; i < 3; i++) {
			statuses.push((await upload(running().url, { data: 'x' }, {}, { from })).status);
		}
		expect(statuses).toEqual([201, 201, 429]);
	});

	test('the brute-force block: the 4th unknown passphrase is 429, a bystander is not blocked', async () => {
		const attacker = client();
		const guess = 'abacus-abdomen-abide-able';
		for (let i = 0; i < 3; i++) {
			expect((await request(`${running().url}/status/${guess}`, { from: attacker })).status).toBe(
				404
			);
		}
		const blocked = await request(`${running().url}/status/${guess}`, { from: attacker });
		expect(blocked.status).toBe(429);
		expect(json(blocked)).toMatchObject({ error_code: 'TOO_MANY_FAILED_LOOKUPS' });
		expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
		const bystander = await request(`${running().url}/status/${guess}`, { from: client() });
		expect(bystander.status).toBe(404);
	});
});
