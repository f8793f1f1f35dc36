/**
 * Redis goes away under traffic (stopped, or hung with SIGSTOP), and Redis comes back empty.
 * Uploads and lookups answer 503 STORE_UNAVAILABLE within a few seconds and never 500, the
 * brute-force block fails closed, /health/ says degraded, and the service recovers by itself.
 * The empty-Redis case waits for the every-minute sweep; it is set up first so that its wait
 * runs alongside the other tests.
 */
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { json, request, upload, type Reply } from '../helpers/http';
import { sleep, startRedis, startServer, waitFor } from '../helpers/processes.js';
import type { TestRedis, TestServer } from '../helpers/processes.js';
import { filesIn, randomData, unknownPassphrase } from './support';

const FAIL_LIMIT = 5;
const ENV = {
	HEALTH_RATE_LIMIT: '1000/second',
	UPLOAD_RATE_LIMIT: '10000/minute',
	DOWNLOAD_FAIL_LIMIT: String(FAIL_LIMIT)
};

let redis: TestRedis;
let server: TestServer;
/** The second pair: a Redis that restarts empty, and the server whose drops it forgets. */
let forgetful: TestRedis;
let forgotten: TestServer;
const forgottenKeys: string[] = [];
let forgottenAt = 0;

beforeAll(async () => {
	[redis, forgetful] = await Promise.all([startRedis({ durable: true }), startRedis()]);
	[server, forgotten] = await Promise.all([
		startServer({ ...ENV, REDIS_URL: redis.url }),
		startServer({ ...ENV, REDIS_URL: forgetful.url })
	]);
	for (let i = 0; i < 3; i++) {
		const reply = await upload(forgotten.url, { data: randomData(100_000) }, { uses: '5' });
		expect(reply.status).toBe(201);
		forgottenKeys.push(json<{ key: string }>(reply).key);
	}
	expect(filesIn(path.join(forgotten.dir, 'uploads'))).toHaveLength(3);
	await forgetful.stop({ keepData: false });
	await forgetful.start();
	forgottenAt = Date.now();
});

afterAll(async () => {
	await Promise.all([server?.stop(), forgotten?.stop()]);
	await Promise.all([redis?.dispose(), forgetful?.dispose()]);
});

type Op = 'upload' | 'status' | 'unknown' | 'health';
type Sample = { op: Op; startedAt: number; endedAt: number; status: number; code?: string };

function describeReply(reply: Reply): string | undefined {
	try {
		const body = json<{ error_code?: string; status?: string }>(reply);
		return body.error_code ?? body.status;
	} catch {
		return reply.error ? `error:${reply.error.message}` : undefined;
	}
}

/**
 * Clients that keep uploading, checking a known drop, guessing unknown passphrases (each from
 * its own address, so that no address is blocked) and checking health, until stopped.
 */
function runTraffic(url: string, knownKey: string, workers = 8) {
	const samples: Sample[] = [];
	let running = true;
	let counter = 0;
	const ops: Op[] = ['upload', 'status', 'unknown', 'health'];
	const once = async (op: Op): Promise<Reply> => {
		const n = counter++;
		const from = `127.0.${1 + (n % 3)}.${1 + (n % 250)}`;
		if (op === 'upload') return upload(url, { data: randomData(4096) }, {}, { from });
		if (op === 'status') return request(`${url}/status/${knownKey}`);
		if (op === 'unknown') return request(`${url}/download/${unknownPassphrase()}`, { from });
		return request(`${url}/health/`);
	};
	const loops = Array.from({ length: workers }, async (_, worker) => {
		for (let i = worker; running; i++) {
			const op = ops[i % ops.length]!;
			const startedAt = Date.now();
			const reply = await once(op);
			samples.push({
				op,
				startedAt,
				endedAt: Date.now(),
				status: reply.status,
				code: describeReply(reply)
			});
		}
	});
	return {
		samples,
		async stop() {
			running = false;
			await Promise.all(loops);
		}
	};
}

function tally(samples: Sample[]): Record<string, number> {
	const counts: Record<string, number> = {};
	for (const { op, status, code } of samples) {
		const name = `${op} ${status}${code ? ` ${code}` : ''}`;
		counts[name] = (counts[name] ?? 0) + 1;
	}
	return counts;
}

async function health(url: string) {
	const reply = await request(`${url}/health/`);
	return {
		status: reply.status,
		body: json<{ status: string; services: { redis: string } }>(reply)
	};
}

/** Every stored file has its record and every record its file. */
async function storageMatchesRecords(dir: string, store: TestRedis) {
	const records = (await store.client().keys('rz:{*}:drop'))
		.map((key) => `${key.slice('rz:{'.length, -'}:drop'.length)}.rzf`)
		.sort();
	expect(filesIn(path.join(dir, 'uploads'))).toEqual(records);
	expect(filesIn(path.join(dir, 'temp'))).toEqual([]);
}

test('Redis stops under traffic: 503 STORE_UNAVAILABLE within seconds, block fails closed, recovery by itself', async () => {
	const known = await upload(server.url, { data: 'kept through the outage' }, { uses: '5' });
	expect(known.status).toBe(201);
	const knownKey = json<{ key: string }>(known).key;

	// An address that earned its block before the outage.
	const blocked = '127.0.9.9';
	for (let i = 0; i < FAIL_LIMIT; i++) {
		const reply = await request(`${server.url}/status/${unknownPassphrase()}`, { from: blocked });
		expect(reply.status).toBe(404);
	}
	expect((await request(`${server.url}/status/${knownKey}`, { from: blocked })).status).toBe(429);

	const traffic = runTraffic(server.url, knownKey);
	await sleep(1500);

	const stoppingAt = Date.now();
	await redis.stop({ keepData: true });
	const stoppedAt = Date.now();
	const degradedAfter =
		(await waitFor(
			async () => (await health(server.url)).status === 503 && Date.now(),
			5000,
			'health degraded'
		)) - stoppedAt;
	const during = await health(server.url);
	expect(during.body).toMatchObject({ status: 'degraded', services: { redis: 'offline' } });

	// During the outage the blocked address is refused, and so is every other guess: 503.
	const guess = await request(`${server.url}/download/${unknownPassphrase()}`, {
		from: '127.0.9.10'
	});
	expect(guess.status).toBe(503);
	expect(json(guess)).toMatchObject({ error_code: 'STORE_UNAVAILABLE' });
	expect((await request(`${server.url}/status/${knownKey}`, { from: blocked })).status).toBe(503);
	await sleep(3000);

	const restartingAt = Date.now();
	await redis.start();
	const upAt = Date.now();
	const recoveredAt = await waitFor(
		async () => {
			const [created, status] = await Promise.all([
				upload(server.url, { data: 'back again' }, {}, { from: '127.0.8.1' }),
				request(`${server.url}/status/${knownKey}`)
			]);
			return created.status === 201 && status.status === 200 && Date.now();
		},
		15_000,
		'uploads and lookups work again',
		25
	);
	const healthyAt = await waitFor(
		async () => (await health(server.url)).status === 200 && Date.now(),
		15_000,
		'health healthy again',
		25
	);
	await sleep(1000);
	await traffic.stop();

	const samples = traffic.samples;
	// Never a 500, never a broken connection, never slower than a few seconds.
	const statuses = new Set(samples.map((sample) => sample.status));
	expect([...statuses].every((status) => [200, 201, 404, 503].includes(status))).toBe(true);
	const slowest = Math.max(...samples.map((sample) => sample.endedAt - sample.startedAt));
	expect(slowest).toBeLessThan(3000);
	// Requests made while Redis was down: all 503, the lookups STORE_UNAVAILABLE (never 404).
	const outage = samples.filter(
		(sample) => sample.startedAt >= stoppedAt && sample.endedAt < restartingAt
	);
	expect(outage.length).toBeGreaterThan(20);
	for (const sample of outage) {
		expect(sample.status).toBe(503);
		expect(sample.code).toBe(sample.op === 'health' ? 'degraded' : 'STORE_UNAVAILABLE');
	}
	// After recovery: the drop and the block both survived (Redis kept its data).
	expect(json(await request(`${server.url}/status/${knownKey}`))).toMatchObject({
		status: 'active'
	});
	expect((await request(`${server.url}/status/${knownKey}`, { from: blocked })).status).toBe(429);
	// Uploads caught by the outage kept nothing: every file has its record and vice versa.
	await sleep(500);
	await storageMatchesRecords(server.dir, redis);
	// No request became a 500 (job_failed lines for the sweeps that could not run are expected).
	expect(server.lines.filter((line) => line.event === 'unhandled_error')).toEqual([]);

	const figures = {
		requests: samples.length,
		during_outage: outage.length,
		slowest_ms: slowest,
		stop_took_ms: stoppedAt - stoppingAt,
		degraded_after_ms: degradedAfter,
		recovered_after_redis_up_ms: recoveredAt - upAt,
		healthy_after_redis_up_ms: healthyAt - upAt
	};
	console.log(
		'Redis outage under traffic:',
		JSON.stringify(figures),
		JSON.stringify(tally(samples))
	);
});

test('Redis hangs (SIGSTOP): requests answer 503 after the 2 s command deadline, never hang; it recovers after SIGCONT', async () => {
	const known = await upload(server.url, { data: 'still here' }, { uses: '5' });
	expect(known.status).toBe(201);
	const knownKey = json<{ key: string }>(known).key;

	redis.freeze();
	const frozenAt = Date.now();
	const replies = await Promise.all([
		upload(server.url, { data: 'frozen' }, {}, { from: '127.0.7.1' }).then((reply) => ({
			op: 'upload',
			reply,
			ms: Date.now() - frozenAt
		})),
		request(`${server.url}/status/${knownKey}`).then((reply) => ({
			op: 'status',
			reply,
			ms: Date.now() - frozenAt
		})),
		request(`${server.url}/download/${unknownPassphrase()}`, { from: '127.0.7.2' }).then(
			(reply) => ({ op: 'unknown', reply, ms: Date.now() - frozenAt })
		),
		request(`${server.url}/health/`).then((reply) => ({
			op: 'health',
			reply,
			ms: Date.now() - frozenAt
		}))
	]);
	for (const { reply, ms } of replies) {
		expect(reply.status).toBe(503);
		expect(ms).toBeLessThan(5000);
	}
	const thawedAt = Date.now();
	redis.thaw();
	const recoveredAt = await waitFor(
		async () => (await request(`${server.url}/status/${knownKey}`)).status === 200 && Date.now(),
		10_000,
		'lookups work after SIGCONT',
		25
	);
	await sleep(500);
	await storageMatchesRecords(server.dir, redis);
	console.log(
		`Redis hung (SIGSTOP): ${replies.map(({ op, ms }) => `${op} 503 in ${ms} ms`).join(', ')}; ` +
			`lookups answered again ${recoveredAt - thawedAt} ms after SIGCONT`
	);
});

test(
	'Redis restarts empty: passphrases are unknown, and the sweep shreds the files within about a minute',
	{ timeout: 90_000 },
	async () => {
		for (const key of forgottenKeys) {
			const reply = await request(`${forgotten.url}/status/${key}`);
			expect(reply.status).toBe(404);
			expect(json(reply)).toMatchObject({ error_code: 'UNKNOWN_PASSPHRASE' });
		}
		const uploads = path.join(forgotten.dir, 'uploads');
		const goneAt = await waitFor(
			() => filesIn(uploads).length === 0 && Date.now(),
			70_000,
			'files of the forgotten drops shredded',
			200
		);
		const line = await forgotten.waitForLine((l) => l.event === 'sweep_expired');
		expect(line).toMatchObject({ shredded: 3 });
		console.log(
			`Redis restarted empty: 3 files without a record shredded ${((goneAt - forgottenAt) / 1000).toFixed(1)} s after the restart`
		);
	}
);
