/**
 * Crashes and restarts with real signals, on a real redis-server that outlives the app:
 * SIGKILL while uploads are mid-stream, and SIGTERM while uploads and downloads are in flight
 * (finishing within SHUTDOWN_TIMEOUT, or cut off cleanly when they cannot).
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { collectReply, json, request, upload, type Reply } from '../helpers/http';
import { sleep, startRedis, startServer, waitFor } from '../helpers/processes.js';
import type { TestRedis, TestServer } from '../helpers/processes.js';
import { filesIn, randomData, slowUpload } from './support';

let redis: TestRedis;
const servers: TestServer[] = [];

beforeAll(async () => {
	redis = await startRedis({ durable: true });
});

// Each test has its own folders; its Redis records must be its own too.
beforeEach(async () => {
	await redis.client().flushall();
});

afterAll(async () => {
	for (const server of servers) server.process.kill('SIGKILL');
	await Promise.all(servers.map((server) => server.stop()));
	await redis?.dispose();
});

function env(extra: Record<string, string> = {}): Record<string, string> {
	return { REDIS_URL: redis.url, UPLOAD_RATE_LIMIT: '1000/minute', LOG_LEVEL: 'info', ...extra };
}

async function start(extra: Record<string, string> = {}, dir?: string): Promise<TestServer> {
	const server = await startServer(env(extra), { dir });
	servers.push(server);
	return server;
}

async function kill(server: TestServer, signal: NodeJS.Signals): Promise<number | null> {
	if (server.process.exitCode !== null || server.process.signalCode !== null) {
		return server.process.exitCode;
	}
	const exited = new Promise<number | null>((resolve) =>
		server.process.once('exit', (code) => resolve(code))
	);
	server.process.kill(signal);
	return exited;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const temp = (server: TestServer) => path.join(server.dir, 'temp');
const uploads = (server: TestServer) => path.join(server.dir, 'uploads');

/** Each `rz:{<id>}:drop` record in Redis has its STORAGE_PATH/<id>.rzf. */
async function recordsWithoutFile(server: TestServer): Promise<string[]> {
	const ids = (await redis.client().keys('rz:{*}:drop')).map((key) =>
		key.slice('rz:{'.length, -'}:drop'.length)
	);
	const stored = new Set(filesIn(uploads(server)));
	return ids.filter((id) => !stored.has(`${id}.rzf`));
}

type Created = { key: string; data: Buffer };

async function createDrops(server: TestServer, count: number, bytes: number): Promise<Created[]> {
	return Promise.all(
		Array.from({ length: count }, async () => {
			const data = randomData(bytes);
			const reply = await upload(server.url, { data });
			expect(reply.status).toBe(201);
			return { key: json<{ key: string }>(reply).key, data };
		})
	);
}

/** A download whose client reads the headers and first bytes, then stops reading until told. */
function pausedDownload(url: string) {
	let resume!: () => void;
	let resolveStarted!: () => void;
	const started = new Promise<void>((resolve) => (resolveStarted = resolve));
	const reply = new Promise<Reply>((resolve) => {
		const req = http.get(url, { agent: false }, (res) => {
			res.once('data', () => {
				res.pause();
				resolveStarted();
			});
			void collectReply(res).then(resolve);
			resume = () => res.resume();
		});
		req.on('error', (error) => {
			resolveStarted();
			resolve({ status: 0, headers: {}, body: Buffer.alloc(0), error });
		});
	});
	return { started, reply, resume: () => resume?.() };
}

test('SIGKILL with 10 uploads mid-stream: after restart nothing partial is left, every 201 still downloads', async () => {
	const first = await start();
	const completed = await createDrops(first, 5, 300_000);

	const inFlight = Array.from({ length: 10 }, (_, i) =>
		slowUpload(first.url, randomData(1_000_000), { from: `127.0.0.${20 + i}` })
	);
	await Promise.all(inFlight.map((upload) => upload.started));
	// Mid-stream: each upload has its temp part and the first half of it is on disk.
	await waitFor(() => filesIn(temp(first)).length === 10, 10_000, 'ten temp parts while uploading');
	await sleep(300);

	expect(await kill(first, 'SIGKILL')).toBeNull();
	const broken = await Promise.all(inFlight.map((upload) => upload.reply));
	expect(broken.every((reply) => reply.status === 0 && reply.error)).toBe(true);
	// The debris a crash leaves: the parts, and the reservations that held their ids.
	expect(filesIn(temp(first))).toHaveLength(10);
	expect(await redis.client().keys('rz:{*}:reserve')).toHaveLength(10);

	const startedAt = Date.now();
	const second = await start({}, first.dir);
	const restartMs = Date.now() - startedAt;

	expect(filesIn(temp(second))).toEqual([]);
	expect(filesIn(uploads(second))).toHaveLength(completed.length);
	expect(await redis.client().keys('rz:{*}:reserve')).toEqual([]);
	expect(await recordsWithoutFile(second)).toEqual([]);
	expect(second.lines.find((line) => line.event === 'startup_temp_cleanup')).toMatchObject({
		checked: 10,
		shredded: 10
	});

	for (const drop of completed) {
		const reply = await request(`${second.url}/download/${drop.key}`);
		expect(reply.status).toBe(200);
		expect(reply.error).toBeUndefined();
		expect(sha256(reply.body)).toBe(sha256(drop.data));
	}
	console.log(
		`SIGKILL during 10 uploads: restarted and cleaned in ${restartMs} ms; ` +
			`${completed.length}/${completed.length} drops that had answered 201 downloaded intact`
	);
	await kill(second, 'SIGTERM');
});

test('SIGTERM during uploads and downloads: they finish, new connections are refused, drops survive', async () => {
	const server = await start({ SHUTDOWN_TIMEOUT: '15' });
	const toDownload = await createDrops(server, 3, 4 * 1024 * 1024);
	const uploadData = Array.from({ length: 3 }, () => randomData(1_500_000));
	const uploading = uploadData.map((data, i) =>
		slowUpload(server.url, data, { from: `127.0.0.${40 + i}` })
	);
	const downloading = toDownload.map((drop) =>
		pausedDownload(`${server.url}/download/${drop.key}`)
	);
	await Promise.all([...uploading, ...downloading].map((transfer) => transfer.started));

	const signalledAt = Date.now();
	const exited = kill(server, 'SIGTERM');
	await server.waitForLine((line) => line.event === 'stopping');
	// The listening socket is closed at once: a new client is refused, not left waiting.
	const late = await request(`${server.url}/health/`);
	expect(late.status).toBe(0);
	expect(['ECONNREFUSED', 'ECONNRESET']).toContain((late.error as NodeJS.ErrnoException).code);

	await sleep(500);
	for (const transfer of uploading) transfer.finish();
	for (const transfer of downloading) transfer.resume();
	const uploaded = await Promise.all(uploading.map((transfer) => transfer.reply));
	const downloaded = await Promise.all(downloading.map((transfer) => transfer.reply));
	expect(uploaded.map((reply) => reply.status)).toEqual([201, 201, 201]);
	downloaded.forEach((reply, i) => {
		expect(reply.status).toBe(200);
		expect(reply.error).toBeUndefined();
		expect(sha256(reply.body)).toBe(sha256(toDownload[i]!.data));
	});
	expect(await exited).toBe(0);
	const drainMs = Date.now() - signalledAt;
	expect(server.lines.some((line) => line.event === 'shutdown')).toBe(true);

	// Completed drops survive a restart with Redis; the burned ones stay burned.
	const again = await start({}, server.dir);
	for (const [i, reply] of uploaded.entries()) {
		const { key } = json<{ key: string }>(reply);
		const download = await request(`${again.url}/download/${key}`);
		expect(download.status).toBe(200);
		expect(sha256(download.body)).toBe(sha256(uploadData[i]!));
	}
	for (const drop of toDownload) {
		const status = await request(`${again.url}/status/${drop.key}`);
		expect(json(status)).toMatchObject({ status: 'burned' });
	}
	expect(filesIn(temp(again))).toEqual([]);
	console.log(
		`SIGTERM with 3 uploads and 3 downloads in flight: all finished, exit 0 after ${drainMs} ms`
	);
	await kill(again, 'SIGTERM');
});

test('SIGTERM with SHUTDOWN_TIMEOUT=1: a transfer that cannot finish is cut off cleanly and leaves no part', async () => {
	const server = await start({ SHUTDOWN_TIMEOUT: '1' });
	const [big] = await createDrops(server, 1, 8 * 1024 * 1024);
	const stalled = slowUpload(server.url, randomData(2_000_000), { from: '127.0.0.60' });
	const reading = pausedDownload(`${server.url}/download/${big!.key}`);
	await Promise.all([stalled.started, reading.started]);
	await waitFor(() => filesIn(temp(server)).length === 1, 5000, 'the stalled part');

	const signalledAt = Date.now();
	const code = await kill(server, 'SIGTERM');
	const exitMs = Date.now() - signalledAt;
	expect(code).toBe(0);
	expect(exitMs).toBeLessThan(5000);
	const cut = await stalled.reply;
	expect(cut.status).toBe(0);
	reading.resume();
	const partial = await reading.reply;
	expect(partial.status).toBe(200);
	expect(partial.error).toBeDefined();
	expect(partial.body.length).toBeLessThan(big!.data.length);

	// On its way down it released the upload's reservation and removed its part, and shredded
	// the burned drop whose last reader was cut off; nothing failed for want of the store.
	expect(server.lines.filter((line) => line.level === 'error')).toEqual([]);
	expect(filesIn(temp(server))).toEqual([]);
	expect(filesIn(uploads(server))).toEqual([]);
	expect(await redis.client().keys('rz:{*}:reserve')).toEqual([]);
	expect(await redis.client().keys('rz:{*}:readers')).toEqual([]);

	const again = await start({}, server.dir);
	expect(json(await request(`${again.url}/status/${big!.key}`))).toMatchObject({
		status: 'burned'
	});
	expect(await recordsWithoutFile(again)).toEqual([]);
	console.log(
		`SIGTERM with SHUTDOWN_TIMEOUT=1 and two stuck transfers: both cut off, exit 0 after ${exitMs} ms, nothing left`
	);
	await kill(again, 'SIGTERM');
});
