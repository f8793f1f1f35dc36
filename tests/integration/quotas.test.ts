/**
 * Storage quotas and what uploads are counted by (issue #12), against the built server and a
 * redis-server of this file's own: the byte quota and the cap on live drops (507
 * STORAGE_QUOTA, refused before the body when the declared length cannot fit, and while it
 * streams otherwise), the per-client byte budget (429 UPLOAD_BUDGET_EXCEEDED), two instances
 * on one Redis, refused uploads that leave UPLOAD_RATE_LIMIT alone, and uploads that wait
 * for their place in the client's gate.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { json, multipart, replyTo, request, upload, type Reply } from '../helpers/http';
import { startRedis, startServer, waitFor } from '../helpers/processes.js';
import type { TestRedis, TestServer } from '../helpers/processes.js';

const KiB = 1024;
const MiB = 1024 * KiB;

let redis: TestRedis;
const servers: TestServer[] = [];

beforeAll(async () => {
	redis = await startRedis();
});

afterAll(async () => {
	await Promise.all(servers.map((server) => server.stop()));
	await redis?.stop();
});

async function serve(env: Record<string, string>): Promise<TestServer> {
	const server = await startServer({
		REDIS_URL: redis.url,
		UPLOAD_RATE_LIMIT: '1000/hour',
		...env
	});
	servers.push(server);
	return server;
}

/** Each test on a Redis of its own contents. */
async function flushRedis() {
	await redis.client().flushall();
}

function filesUnder(dir: string): string[] {
	try {
		return readdirSync(dir).sort();
	} catch {
		return [];
	}
}

const temp = (server: TestServer) => filesUnder(path.join(server.dir, 'temp'));
const stored = (server: TestServer) => filesUnder(path.join(server.dir, 'uploads'));
const storedBytes = (server: TestServer) =>
	stored(server).reduce(
		(sum, name) => sum + statSync(path.join(server.dir, 'uploads', name)).size,
		0
	);

/** The store's running totals, straight from Redis. */
async function quotaTotals(): Promise<{ bytes: number; drops: number }> {
	const [bytes, drops] = await redis.client().hmget('rz:quota', 'bytes', 'drops');
	return { bytes: Number(bytes ?? 0), drops: Number(drops ?? 0) };
}

type Streaming = {
	/** The reply; status 0 when the connection broke first. */
	reply: Promise<Reply>;
	/** Send the rest of the body. */
	finish(): void;
	abort(): void;
};

/**
 * An upload whose body goes out in two parts: `firstBytes` at once, the rest on finish().
 * `chunked`: no Content-Length (Transfer-Encoding: chunked), so the server cannot know the
 * size before it reads it.
 */
function streamUpload(
	server: TestServer,
	data: Buffer,
	options: { chunked?: boolean; firstBytes?: number; from?: string } = {}
): Streaming {
	const { body, contentType } = multipart([{ name: 'file', filename: 'big.bin', data }]);
	const headers: Record<string, string> = { 'content-type': contentType };
	if (!options.chunked) headers['content-length'] = String(body.length);
	const req = http.request(`${server.url}/upload/`, {
		method: 'POST',
		agent: false,
		localAddress: options.from,
		headers
	});
	const reply = replyTo(req);
	req.on('error', () => undefined);
	const split = options.firstBytes ?? body.length;
	req.write(body.subarray(0, split));
	if (split >= body.length) req.end();
	return {
		reply,
		finish: () => {
			if (!req.destroyed && split < body.length) req.end(body.subarray(split));
		},
		abort: () => req.destroy()
	};
}

/** Send a whole body in 64 KiB pieces without a Content-Length. */
function chunkedUpload(server: TestServer, data: Buffer, from?: string): Promise<Reply> {
	const { body, contentType } = multipart([{ name: 'file', filename: 'big.bin', data }]);
	const req = http.request(`${server.url}/upload/`, {
		method: 'POST',
		agent: false,
		localAddress: from,
		headers: { 'content-type': contentType }
	});
	const reply = replyTo(req);
	req.on('error', () => undefined);
	let offset = 0;
	const pump = () => {
		while (offset < body.length) {
			const piece = body.subarray(offset, offset + 64 * KiB);
			offset += piece.length;
			if (!req.write(piece)) return void req.once('drain', pump);
		}
		req.end();
	};
	pump();
	return reply;
}

describe('the storage quota', () => {
	let server: TestServer;

	beforeAll(async () => {
		await flushRedis();
		server = await serve({ STORAGE_QUOTA: '3M', MAX_FILE_SIZE: String(10 * MiB) });
	});

	test('a declared length that cannot fit is 507 STORAGE_QUOTA before the body is read', async () => {
		// Only the first kilobyte of a 4 MiB body goes out: the answer must not wait for more.
		const refused = streamUpload(server, randomBytes(4 * MiB), { firstBytes: KiB });
		const reply = await refused.reply;
		refused.abort();
		expect(reply.status).toBe(507);
		expect(json(reply)).toMatchObject({ error_code: 'STORAGE_QUOTA' });
		expect(temp(server)).toEqual([]);
		expect(stored(server)).toEqual([]);
		expect(await quotaTotals()).toEqual({ bytes: 0, drops: 0 });
	});

	test('an upload without a declared length is stopped when it passes the quota', async () => {
		const reply = await chunkedUpload(server, randomBytes(5 * MiB));
		expect(reply.status).toBe(507);
		expect(json(reply)).toMatchObject({ error_code: 'STORAGE_QUOTA' });
		await waitFor(() => temp(server).length === 0, 2000, 'the part removed');
		expect(stored(server)).toEqual([]);
		expect(await quotaTotals()).toEqual({ bytes: 0, drops: 0 });

		// Nothing was kept counted: files that fit go in, up to the quota, by either way.
		expect((await chunkedUpload(server, randomBytes(2 * MiB))).status).toBe(201);
		const totals = await quotaTotals();
		expect(totals).toEqual({ bytes: storedBytes(server), drops: 1 });
		expect((await upload(server.url, { data: randomBytes(MiB) })).status).toBe(507);
		expect((await upload(server.url, { data: randomBytes(512 * KiB) })).status).toBe(201);
		expect((await quotaTotals()).bytes).toBe(storedBytes(server));
		expect(storedBytes(server)).toBeLessThanOrEqual(3 * MiB);
	});
});

describe('the cap on live drops', () => {
	test('MAX_LIVE_DROPS drops are stored; the next is 507 until one is burned or destroyed', async () => {
		await flushRedis();
		const server = await serve({ MAX_LIVE_DROPS: '2' });
		const keys: string[] = [];
		for (const data of ['one', 'two']) {
			const reply = await upload(server.url, { data });
			expect(reply.status).toBe(201);
			keys.push(json<{ key: string }>(reply).key);
		}
		const third = await upload(server.url, { data: 'three' });
		expect(third.status).toBe(507);
		expect(json(third)).toMatchObject({ error_code: 'STORAGE_QUOTA' });
		expect(json<{ detail: string }>(third).detail).toMatch(/as many drops/);

		// Burning a drop (its one download) gives its place back at once.
		const download = await request(`${server.url}/download/${keys[0]}`);
		expect(download.body.toString()).toBe('one');
		await waitFor(() => stored(server).length === 1, 2000, 'the burned file shredded');
		expect(await quotaTotals()).toEqual({ bytes: storedBytes(server), drops: 1 });
		const again = await upload(server.url, { data: 'three' });
		expect(again.status).toBe(201);

		// Full again; destroying a drop ("Destroy now") gives its place back at once too.
		expect((await upload(server.url, { data: 'four' })).status).toBe(507);
		const destroyed = await request(`${server.url}/destroy`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ passphrase: json<{ key: string }>(again).key })
		});
		expect(destroyed.status).toBe(200);
		await waitFor(() => stored(server).length === 1, 2000, 'the destroyed file shredded');
		expect(await quotaTotals()).toEqual({ bytes: storedBytes(server), drops: 1 });
		expect((await upload(server.url, { data: 'four' })).status).toBe(201);
	});
});

describe('the per-client byte budget', () => {
	test('UPLOAD_BYTE_LIMIT: 429 UPLOAD_BUDGET_EXCEEDED with Retry-After, before or while reading', async () => {
		await flushRedis();
		const server = await serve({ UPLOAD_BYTE_LIMIT: '100K/hour' });
		const from = '127.0.0.31';
		expect((await upload(server.url, { data: randomBytes(60 * KiB) }, {}, { from })).status).toBe(
			201
		);

		// Declared: refused before the body, with what is left in the headers.
		const declared = streamUpload(server, randomBytes(60 * KiB), { firstBytes: KiB, from });
		const early = await declared.reply;
		declared.abort();
		expect(early.status).toBe(429);
		expect(json(early)).toMatchObject({ error_code: 'UPLOAD_BUDGET_EXCEEDED' });
		expect(Number(early.headers['retry-after'])).toBeGreaterThan(3000);
		expect(early.headers['ratelimit-limit']).toBe(String(100 * KiB));
		expect(early.headers['ratelimit-remaining']).toBe(String(40 * KiB));

		// Not declared: stopped while streaming, the part removed.
		const late = await chunkedUpload(server, randomBytes(60 * KiB), from);
		expect(late.status).toBe(429);
		expect(json(late)).toMatchObject({ error_code: 'UPLOAD_BUDGET_EXCEEDED' });
		expect(Number(late.headers['retry-after'])).toBeGreaterThan(3000);
		await waitFor(() => temp(server).length === 0, 2000, 'the part removed');

		// What the chunked refusal read (up to the budget) stays counted; a file that fits what
		// is left still goes in (the multipart framing counts when the length is declared).
		const left = Number(late.headers['ratelimit-remaining']);
		expect(left).toBeLessThanOrEqual(40 * KiB);
		if (left > 2 * KiB) {
			const fits = randomBytes(left - KiB);
			expect((await upload(server.url, { data: fits }, {}, { from })).status).toBe(201);
		}
		// Another client has its own budget.
		expect(
			(await upload(server.url, { data: randomBytes(90 * KiB) }, {}, { from: '127.0.0.32' })).status
		).toBe(201);
		expect(stored(server).length).toBeGreaterThanOrEqual(2);
	});
});

describe('two instances on one Redis', () => {
	test('together they never store past the quota', async () => {
		await flushRedis();
		const env = { STORAGE_QUOTA: '1M', MAX_LIVE_DROPS: '1000' };
		const pair = [await serve(env), await serve(env)];
		const file = 100 * KiB;
		// 40 uploads of 100 KiB at once, half on each instance, each from its own address (no
		// gate, no per-client limit in the way): only the quota can stop them.
		const replies = await Promise.all(
			Array.from({ length: 40 }, (_, i) =>
				upload(pair[i % 2]!.url, { data: randomBytes(file) }, {}, { from: `127.0.1.${i + 1}` })
			)
		);
		const statuses = replies.map((reply) => reply.status);
		expect(statuses.filter((status) => status !== 201 && status !== 507)).toEqual([]);
		const onDisk = storedBytes(pair[0]!) + storedBytes(pair[1]!);
		const created = statuses.filter((status) => status === 201).length;
		expect(onDisk).toBeLessThanOrEqual(MiB);
		// 10 fit (each holds its declared length while it streams, its stored size after).
		expect(created).toBe(10);
		expect(await quotaTotals()).toEqual({ bytes: onDisk, drops: created });
		console.log(
			`two instances, 40 racing 100 KiB uploads into a 1 MiB quota: ${created} stored, ${onDisk} bytes on disk`
		);
	});
});

describe('a crash mid-upload', () => {
	test("does not keep its quota: the restarted instance gives the dead upload's share back", async () => {
		await flushRedis();
		const env = { MAX_LIVE_DROPS: '1' };
		const crashed = await serve(env);
		const dying = streamUpload(crashed, randomBytes(256 * KiB), { firstBytes: 64 * KiB });
		await waitFor(() => temp(crashed).length === 1, 5000, 'the part being written');
		expect((await quotaTotals()).drops).toBe(1);
		crashed.process.kill('SIGKILL');
		await new Promise((resolve) => crashed.process.once('exit', resolve));
		dying.abort();
		expect((await quotaTotals()).drops).toBe(1);

		// The same folders and Redis: start-up removes the dead upload's part and its hold.
		const restarted = await startServer(
			{ REDIS_URL: redis.url, UPLOAD_RATE_LIMIT: '1000/hour', ...env },
			{ dir: crashed.dir }
		);
		servers.push(restarted);
		expect(temp(restarted)).toEqual([]);
		expect(await quotaTotals()).toEqual({ bytes: 0, drops: 0 });
		expect((await upload(restarted.url, { data: 'after the crash' })).status).toBe(201);
	});
});

describe('what the upload limit counts', () => {
	test('refused uploads leave UPLOAD_RATE_LIMIT alone; a stored drop uses it', async () => {
		const server = await serve({
			UPLOAD_RATE_LIMIT: '2/hour',
			MAX_FILE_SIZE: '1000',
			ALLOWED_MIME_TYPES: 'text/plain'
		});
		const from = '127.0.0.41';
		const mistakes = [
			// Before the body is read.
			request(`${server.url}/upload/`, {
				method: 'POST',
				from,
				headers: { 'content-type': 'text/plain' },
				body: 'not a form'
			}),
			upload(server.url, { data: 'x'.repeat(70_000) }, {}, { from }),
			// While it is read.
			upload(server.url, { data: 'x'.repeat(5000) }, {}, { from }),
			upload(server.url, { data: 'hello' }, { expiry: '999' }, { from }),
			upload(server.url, { data: 'hello' }, { uses: 'many' }, { from }),
			upload(server.url, { data: randomBytes(500), filename: 'a.bin' }, {}, { from })
		];
		const codes = [];
		for (const mistake of mistakes) {
			const reply = await mistake;
			codes.push(`${reply.status} ${json<{ error_code: string }>(reply).error_code}`);
		}
		expect(codes).toEqual([
			'400 NOT_MULTIPART',
			'413 FILE_TOO_LARGE',
			'413 FILE_TOO_LARGE',
			'400 INVALID_EXPIRY',
			'400 INVALID_USES',
			'415 UNSUPPORTED_FILE_TYPE'
		]);
		expect((await upload(server.url, { data: 'one' }, {}, { from })).status).toBe(201);
		const second = await upload(server.url, { data: 'two' }, {}, { from });
		expect(second.status).toBe(201);
		expect(second.headers['ratelimit-remaining']).toBe('0');
		const third = await upload(server.url, { data: 'three' }, {}, { from });
		expect(third.status).toBe(429);
		expect(json(third)).toMatchObject({ error_code: 'RATE_LIMITED' });
	});

	test(
		'a client that sends nothing but refused uploads is stopped after 100 an hour',
		{ timeout: 180_000 },
		async () => {
			const server = await serve({});
			const from = '127.0.0.42';
			const refused = () => upload(server.url, { data: 'hello' }, { expiry: '0' }, { from });
			for (let i = 0; i < 100; i++) expect((await refused()).status).toBe(400);
			const limited = await refused();
			expect(limited.status).toBe(429);
			expect(json(limited)).toMatchObject({ error_code: 'RATE_LIMITED' });
			expect(json<{ detail: string }>(limited).detail).toMatch(/refused uploads/);
			expect(Number(limited.headers['retry-after'])).toBeGreaterThan(3000);
			// Another client is not affected.
			expect((await upload(server.url, { data: 'ok' }, {}, { from: '127.0.0.43' })).status).toBe(
				201
			);
		}
	);
});

describe('the per-client gate', () => {
	test("an upload waits for a place in its client's gate before it reads its body", async () => {
		// UV_THREADPOOL_SIZE=2: one scrypt at a time (one thread stays for file I/O), so each
		// client has one place.
		const server = await serve({ UV_THREADPOOL_SIZE: '2' });
		const from = '127.0.0.51';
		const first = streamUpload(server, randomBytes(256 * KiB), { firstBytes: 64 * KiB, from });
		await waitFor(() => temp(server).length === 1, 5000, "the first upload's part");
		const second = streamUpload(server, randomBytes(256 * KiB), { firstBytes: 64 * KiB, from });
		// Another client is not held up by this one.
		const other = streamUpload(server, randomBytes(256 * KiB), {
			firstBytes: 64 * KiB,
			from: '127.0.0.52'
		});
		await waitFor(() => temp(server).length === 2, 5000, "the other client's part");
		await new Promise((resolve) => setTimeout(resolve, 500));
		expect(temp(server)).toHaveLength(2);

		first.finish();
		expect((await first.reply).status).toBe(201);
		// Its place free, the second upload starts.
		await waitFor(() => temp(server).length === 2, 5000, "the second upload's part");
		second.finish();
		other.finish();
		expect((await second.reply).status).toBe(201);
		expect((await other.reply).status).toBe(201);
		expect(stored(server)).toHaveLength(3);
	});
});
