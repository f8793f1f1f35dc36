/**
 * Two app processes on different ports sharing one Redis and one storage folder, as when
 * scaling out: a drop crosses from one to the other, uses are counted exactly once across
 * both, a brute-force block earned on one holds on the other, and each sweep runs on one
 * instance at a time. The sweep check waits for the next minute; its debris is laid out
 * before the other tests so that the wait overlaps them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { json, request, upload } from '../helpers/http';
import { sleep, startRedis, startServer, waitFor } from '../helpers/processes.js';
import type { LogLine, TestRedis, TestServer } from '../helpers/processes.js';
import { filesIn, randomData, unknownPassphrase } from './support';

const FAIL_LIMIT = 3;
const DEBRIS = 6;

let redis: TestRedis;
let a: TestServer;
let b: TestServer;
/** Files laid out for the sweeps: stored files without a record, and stale temp parts. */
const strayStored: string[] = [];
const strayParts: string[] = [];
let laidOutAt = 0;

const uploadsDir = () => path.join(a.dir, 'uploads');
const tempDir = () => path.join(a.dir, 'temp');
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

beforeAll(async () => {
	redis = await startRedis();
	const env = {
		REDIS_URL: redis.url,
		DOWNLOAD_FAIL_LIMIT: String(FAIL_LIMIT),
		UPLOAD_RATE_LIMIT: '1000/minute',
		CLEANUP_INTERVAL_MINUTES: '1',
		ORPHAN_AGE_MINUTES: '1',
		// Slower shredding, so that two sweeps at once would overlap and show it.
		SECURE_SHRED_PASSES: '4'
	};
	a = await startServer(env);
	b = await startServer(
		{ ...env, LOG_PATH: path.join(a.dir, 'logs-b', 'raven_zero.log') },
		{ dir: a.dir }
	);
	// Debris for both sweeps, laid out after both start-up cleanups have run.
	mkdirSync(uploadsDir(), { recursive: true });
	mkdirSync(tempDir(), { recursive: true });
	const stale = new Date(Date.now() - 10 * 60_000);
	for (let i = 0; i < DEBRIS; i++) {
		const stored = `${randomBytes(16).toString('hex')}.rzf`;
		writeFileSync(path.join(uploadsDir(), stored), randomBytes(256 * 1024));
		strayStored.push(stored);
		const part = `${randomBytes(16).toString('hex')}.part`;
		writeFileSync(path.join(tempDir(), part), randomBytes(256 * 1024));
		utimesSync(path.join(tempDir(), part), stale, stale);
		strayParts.push(part);
	}
	laidOutAt = Date.now();
});

afterAll(async () => {
	await Promise.all([b?.stop(), a?.stop()]);
	await redis?.stop();
});

/** Our drops' files: what is in STORAGE_PATH apart from the debris laid out for the sweeps. */
const dropFiles = () => filesIn(uploadsDir()).filter((name) => !strayStored.includes(name));

test('a drop uploaded through one instance downloads through the other', async () => {
	const data = randomData(2 * 1024 * 1024);
	const created = await upload(a.url, { data, filename: 'cross.bin' }, { uses: '2' });
	expect(created.status).toBe(201);
	const { key } = json<{ key: string }>(created);
	expect(json(await request(`${b.url}/status/${key}`))).toMatchObject({
		status: 'active',
		remaining_uses: 2
	});
	const first = await request(`${b.url}/download/${key}`);
	expect(first.status).toBe(200);
	expect(sha256(first.body)).toBe(sha256(data));
	const second = await request(`${a.url}/download/${key}`);
	expect(sha256(second.body)).toBe(sha256(data));
	expect((await request(`${b.url}/download/${key}`)).status).toBe(410);
});

test('uses=5 with 50 concurrent downloads split across both: exactly five 200s', async () => {
	const data = randomData(512 * 1024);
	const created = await upload(b.url, { data }, { uses: '5' });
	const { key } = json<{ key: string }>(created);
	const before = dropFiles().length;
	const replies = await Promise.all(
		Array.from({ length: 50 }, (_, i) => request(`${(i % 2 ? a : b).url}/download/${key}`))
	);
	const ok = replies.filter((reply) => reply.status === 200);
	expect(ok).toHaveLength(5);
	for (const reply of ok) expect(sha256(reply.body)).toBe(sha256(data));
	expect(replies.filter((reply) => reply.status === 410)).toHaveLength(45);
	expect(replies.every((reply) => reply.status === 200 || reply.status === 410)).toBe(true);
	const byInstance = [a, b].map(
		(server) =>
			replies.filter((reply, i) => reply.status === 200 && (i % 2 ? a : b) === server).length
	);
	// The file goes once the last reader, on whichever instance, is done.
	await waitFor(() => dropFiles().length === before - 1, 5000, 'the burned file shredded');
	console.log(
		`50 concurrent downloads of a uses=5 drop over two instances: 5 x 200 (${byInstance.join(' + ')}), 45 x 410`
	);
});

test('a brute-force block earned on one instance holds on the other', async () => {
	const created = await upload(a.url, { data: 'guarded' });
	const { key } = json<{ key: string }>(created);
	const attacker = '127.0.5.5';
	for (let i = 0; i < FAIL_LIMIT; i++) {
		const reply = await request(`${a.url}/download/${unknownPassphrase()}`, { from: attacker });
		expect(reply.status).toBe(404);
	}
	for (const path of [`/download/${unknownPassphrase()}`, `/status/${key}`, `/preview/${key}`]) {
		const reply = await request(`${b.url}${path}`, { from: attacker });
		expect(reply.status).toBe(429);
		expect(json(reply)).toMatchObject({ error_code: 'TOO_MANY_FAILED_LOOKUPS' });
		expect(Number(reply.headers['retry-after'])).toBeGreaterThan(0);
	}
	// Everyone else is unaffected, on both.
	expect((await request(`${b.url}/status/${key}`, { from: '127.0.5.6' })).status).toBe(200);
	expect((await request(`${a.url}/status/${key}`, { from: '127.0.5.6' })).status).toBe(200);
});

test(
	'each sweep runs on one instance at a time: the debris is shredded once, by one of them',
	{ timeout: 90_000 },
	async () => {
		// The sweeps run at the top of each minute, on both instances; each takes its store lock.
		await waitFor(
			() =>
				filesIn(tempDir()).length === 0 &&
				strayStored.every((name) => !filesIn(uploadsDir()).includes(name)),
			75_000,
			'the debris swept',
			250
		);
		await sleep(1000);
		const sweepLines = (server: TestServer, event: string) =>
			server.lines.filter(
				(line: LogLine) => line.event === event && Date.parse(String(line.timestamp)) >= laidOutAt
			);
		const report = {} as Record<string, unknown>;
		for (const event of ['sweep_expired', 'sweep_orphans']) {
			const lines = [a, b].map((server) => sweepLines(server, event));
			const shredding = lines.map((list) => list.filter((line) => Number(line.shredded) > 0));
			// One instance shredded all of it in one run; the other found the lock taken, or nothing left.
			expect(shredding.flat()).toHaveLength(1);
			expect(shredding.flat()[0]).toMatchObject({ shredded: DEBRIS });
			report[event] = lines.map((list) => list.map((line) => line.shredded));
		}
		expect(await redis.client().keys('rz:lock:*')).toEqual([]);
		console.log(
			`sweeps over two instances (shredded per run, instance A vs B): ${JSON.stringify(report)}; ` +
				`debris gone ${((Date.now() - laidOutAt) / 1000).toFixed(1)} s after it was laid out`
		);
	}
);
