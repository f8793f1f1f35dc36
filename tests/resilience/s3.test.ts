/**
 * Crashes and scale-out with the files on object storage (STORAGE_BACKEND=s3, a real
 * one-node Swift with s3api, tests/helpers/swift.js), as restart.test.ts and
 * instances.test.ts check them on a folder: SIGKILL while uploads are mid-stream leaves
 * unfinished multipart uploads that the restarted instance aborts at once, and two instances
 * sharing one bucket and one Redis count uses exactly and sweep each piece of debris once.
 */
import { createHash, randomBytes } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { json, request, upload } from '../helpers/http';
import { sleep, startRedis, startServer, waitFor } from '../helpers/processes.js';
import type { LogLine, TestRedis, TestServer } from '../helpers/processes.js';
import { startSwift, type TestSwift } from '../helpers/swift.js';
import { randomData, slowUpload } from './support';

const MiB = 1024 * 1024;
const PREFIX = 'raven-zero/';

let swift: TestSwift;
let redis: TestRedis;
const servers: TestServer[] = [];

beforeAll(async () => {
	swift = await startSwift();
	redis = await startRedis();
}, 180_000);

afterAll(async () => {
	for (const server of servers) server.process.kill('SIGKILL');
	await Promise.all(servers.map((server) => server.stop()));
	await redis?.stop();
	await swift?.stop();
});

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function start(bucket: string, extra: Record<string, string> = {}): Promise<TestServer> {
	const server = await startServer(
		swift.env(bucket, {
			REDIS_URL: redis.url,
			UPLOAD_RATE_LIMIT: '1000/minute',
			MAX_FILE_SIZE: String(32 * MiB),
			...extra
		}),
		{ readyTimeoutMs: 60_000 }
	);
	servers.push(server);
	return server;
}

async function kill(server: TestServer, signal: NodeJS.Signals): Promise<void> {
	if (server.process.exitCode !== null || server.process.signalCode !== null) return;
	const exited = new Promise((resolve) => server.process.once('exit', resolve));
	server.process.kill(signal);
	await exited;
}

/** The drop records in Redis whose object is not in the bucket. */
async function recordsWithoutObject(bucket: string): Promise<string[]> {
	const ids = (await redis.client().keys('rz:{*}:drop')).map((key) =>
		key.slice('rz:{'.length, -'}:drop'.length)
	);
	const keys = new Set((await swift.objects(bucket)).map((object) => object.key));
	return ids.filter((id) => !keys.has(`${PREFIX}${id}.rzf`));
}

describe('SIGKILL on S3', () => {
	test('with 6 uploads mid-stream: after restart no multipart upload is left, every 201 still downloads', async () => {
		await redis.client().flushall();
		const bucket = await swift.createBucket();
		const first = await start(bucket);
		const completed = await Promise.all(
			Array.from({ length: 3 }, async () => {
				const data = randomData(MiB);
				const reply = await upload(first.url, { data });
				expect(reply.status).toBe(201);
				return { key: json<{ key: string }>(reply).key, data };
			})
		);
		// More than a part (5 MiB) sent of each: each is a multipart upload in the bucket.
		const inFlight = Array.from({ length: 6 }, (_, i) =>
			slowUpload(first.url, randomData(14 * MiB), {
				from: `127.0.0.${40 + i}`,
				firstBytes: 8 * MiB
			})
		);
		await Promise.all(inFlight.map((upload) => upload.started));
		await waitFor(
			async () => (await swift.uploads(bucket)).length === 6,
			60_000,
			'six multipart uploads under way',
			250
		);

		await kill(first, 'SIGKILL');
		const broken = await Promise.all(inFlight.map((upload) => upload.reply));
		expect(broken.every((reply) => reply.status === 0 && reply.error)).toBe(true);
		// The debris a crash leaves: the unfinished uploads, and the reservations of their ids.
		expect(await swift.uploads(bucket)).toHaveLength(6);
		expect(await redis.client().keys('rz:{*}:reserve')).toHaveLength(6);

		const startedAt = Date.now();
		const second = await start(bucket);
		const restartMs = Date.now() - startedAt;
		await waitFor(
			async () => (await swift.uploads(bucket)).length === 0,
			10_000,
			'the unfinished uploads aborted'
		);
		expect(second.lines.find((line) => line.event === 'startup_temp_cleanup')).toMatchObject({
			checked: 6,
			shredded: 6
		});
		expect(await redis.client().keys('rz:{*}:reserve')).toEqual([]);
		expect(await swift.objects(bucket)).toHaveLength(completed.length);
		expect(await recordsWithoutObject(bucket)).toEqual([]);
		for (const drop of completed) {
			const reply = await request(`${second.url}/download/${drop.key}`);
			expect(reply.status).toBe(200);
			expect(reply.error).toBeUndefined();
			expect(sha256(reply.body)).toBe(sha256(drop.data));
		}
		console.log(
			`S3, SIGKILL during 6 uploads: restarted and aborted them in ${restartMs} ms; ` +
				`${completed.length}/${completed.length} drops that had answered 201 downloaded intact`
		);
		await kill(second, 'SIGTERM');
	});
});

describe('two instances on one bucket', () => {
	const DEBRIS = 4;
	let a: TestServer;
	let b: TestServer;
	let bucket = '';
	let laidOutAt = 0;
	const debris: string[] = [];

	beforeAll(async () => {
		await redis.client().flushall();
		bucket = await swift.createBucket();
		a = await start(bucket);
		b = await start(bucket);
		// Objects of our form without a record (a drop lost with its Redis), for the sweep.
		const s3 = swift.client();
		try {
			for (let i = 0; i < DEBRIS; i++) {
				const key = `${PREFIX}${randomBytes(16).toString('hex')}.rzf`;
				await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: randomBytes(1000) }));
				debris.push(key);
			}
		} finally {
			s3.destroy();
		}
		laidOutAt = Date.now();
	}, 120_000);

	test('a drop uploaded through one downloads through the other', async () => {
		const data = randomData(7 * MiB);
		const created = await upload(a.url, { data, filename: 'cross.bin' }, { uses: '2' });
		expect(created.status).toBe(201);
		const { key } = json<{ key: string }>(created);
		const first = await request(`${b.url}/download/${key}`);
		expect(first.status).toBe(200);
		expect(sha256(first.body)).toBe(sha256(data));
		expect(sha256((await request(`${a.url}/download/${key}`)).body)).toBe(sha256(data));
		expect((await request(`${b.url}/download/${key}`)).status).toBe(410);
	});

	test('uses=5 with 50 concurrent downloads split across both: exactly five 200s, then the object goes', async () => {
		const data = randomData(512 * 1024);
		const created = await upload(b.url, { data }, { uses: '5' });
		const { key } = json<{ key: string }>(created);
		const replies = await Promise.all(
			Array.from({ length: 50 }, (_, i) => request(`${(i % 2 ? a : b).url}/download/${key}`))
		);
		const ok = replies.filter((reply) => reply.status === 200);
		expect(ok).toHaveLength(5);
		for (const reply of ok) expect(sha256(reply.body)).toBe(sha256(data));
		expect(replies.filter((reply) => reply.status === 410)).toHaveLength(45);
		await waitFor(
			async () => (await recordsWithoutObject(bucket)).length === 0,
			5000,
			'no record without its object'
		);
	});

	test(
		'the expiry sweep runs on one instance at a time: each record-less object is deleted once',
		{ timeout: 100_000 },
		async () => {
			await waitFor(
				async () => {
					const keys = new Set((await swift.objects(bucket)).map((object) => object.key));
					return debris.every((key) => !keys.has(key));
				},
				75_000,
				'the debris swept',
				500
			);
			await sleep(1000);
			const shredding = [a, b].flatMap((server) =>
				server.lines.filter(
					(line: LogLine) =>
						line.event === 'sweep_expired' &&
						Date.parse(String(line.timestamp)) >= laidOutAt &&
						Number(line.shredded) > 0
				)
			);
			// Counted once in all: two sweeps at once would both list and delete each object
			// (a DeleteObject of a missing key succeeds), counting it twice. The drops of the
			// tests above went at their last download, not here.
			const total = shredding.reduce((sum, line) => sum + Number(line.shredded), 0);
			expect(total).toBe(DEBRIS);
			console.log(
				`S3, two instances: ${DEBRIS} record-less objects deleted once, in ${shredding.length} sweep run(s), ` +
					`${((Date.now() - laidOutAt) / 1000).toFixed(1)} s after they were laid out`
			);
		}
	);
});
