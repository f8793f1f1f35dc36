/**
 * What the resilience tests share besides their processes (tests/helpers/processes.js):
 * uploads that arrive slowly, passphrases that name no drop, random data, folder listings,
 * and the traffic and figures of the Redis failover tests (Sentinel and Cluster).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { expect } from 'vitest';
import { encodeAccessKey } from '../../src/lib/server/crypto/access-key';
import { json, multipart, replyTo, request, upload, type Reply } from '../helpers/http';
import { ROOT, sleep, waitFor } from '../helpers/processes.js';
import type { TestServer } from '../helpers/processes.js';

/** File names in a folder (none when it does not exist). */
export function filesIn(dir: string): string[] {
	try {
		return readdirSync(dir).sort();
	} catch {
		return [];
	}
}

// ------------------------------------------------------------------------------ passphrases

const WORDS = readFileSync(path.join(ROOT, 'data/diceware_words.txt'), 'utf8')
	.split('\n')
	.map((line) => line.split('\t')[1]?.trim() ?? '')
	.filter((word) => /^[a-z]+$/.test(word));

/** A well-formed passphrase that (almost surely) names no drop: a failed lookup, not a 400. */
export function unknownPassphrase(words = 4): string {
	return Array.from({ length: words }, () => WORDS[randomInt(WORDS.length)]).join('-');
}

export function randomWord(): string {
	return WORDS[randomInt(WORDS.length)]!;
}

// ------------------------------------------------------------------------------ slow upload

export type SlowUpload = {
	/** Resolves once the first part of the body has been handed to the socket. */
	started: Promise<void>;
	/** Send the rest of the body; the reply resolves afterwards. */
	finish(): void;
	/** Break the connection off. */
	abort(): void;
	/** The answer, or status 0 with `error` when the connection broke first. */
	reply: Promise<Reply>;
};

/**
 * A multipart upload of `data` sent in two halves: the first at once, the rest when
 * `finish()` is called, so the test can act while the server is mid-stream.
 */
export function slowUpload(
	baseUrl: string,
	data: Buffer,
	options: { fields?: Record<string, string>; from?: string; firstBytes?: number } = {}
): SlowUpload {
	const { body, contentType } = multipart([
		...Object.entries(options.fields ?? {}).map(([name, value]) => ({ name, data: value })),
		{ name: 'file', filename: 'slow.bin', data }
	]);
	const split = options.firstBytes ?? Math.floor(body.length / 2);
	let resolveStarted!: () => void;
	const started = new Promise<void>((resolve) => (resolveStarted = resolve));
	let req!: http.ClientRequest;
	const reply = new Promise<Reply>((resolve) => {
		req = http.request(`${baseUrl}/upload/`, {
			method: 'POST',
			agent: false,
			localAddress: options.from,
			headers: { 'content-type': contentType, 'content-length': String(body.length) }
		});
		void replyTo(req).then(resolve);
		req.flushHeaders();
		req.write(body.subarray(0, split), () => resolveStarted());
	});
	return {
		started,
		reply,
		finish: () => {
			if (!req.destroyed) req.end(body.subarray(split));
		},
		abort: () => req.destroy()
	};
}

export function randomData(bytes: number): Buffer {
	return randomBytes(bytes);
}

// ------------------------------------------------------------------------- Redis failovers

/** Clients uploading and downloading at once during a failover. */
const WORKERS = 6;
/** Uploads must answer 201 again within this of the failover's start, without help. */
export const RECOVERY_BOUND_MS = 15_000;
/** Limits high enough that the failover tests' traffic is never refused for its rate. */
export const FAILOVER_ENV = {
	UPLOAD_RATE_LIMIT: '100000/hour',
	LOOKUP_RATE_LIMIT: '100000/hour',
	HEALTH_RATE_LIMIT: '1000/second'
};

export type Drop = { accessKey: string; data: Buffer };
export type Sample = {
	op: 'upload' | 'download';
	startedAt: number;
	endedAt: number;
	status: number;
	code?: string;
};

const byKey = (accessKey: string, from: string) => ({
	method: 'POST',
	from,
	headers: { 'x-access-key': accessKey }
});

function codeOf(reply: Reply): string | undefined {
	try {
		return json<{ error_code?: string }>(reply).error_code;
	} catch {
		return reply.error ? `error:${reply.error.message}` : 'not-json';
	}
}

/**
 * Clients that upload a small drop (named by a random access key, so no scrypt runs) and
 * download one of their earlier drops (each once) in turn, each from its own address, until stopped.
 * A download must give the drop's bytes; the test checks every other answer afterwards.
 */
export function runTraffic(url: string) {
	const samples: Sample[] = [];
	const answered: Drop[] = [];
	const wrongBytes: string[] = [];
	let running = true;
	const loops = Array.from({ length: WORKERS }, async (_, worker) => {
		const from = `127.0.${20 + worker}.1`;
		// Each drop is downloaded once here (it has 3 uses), so the check afterwards has one.
		const mine: Drop[] = [];
		for (let i = 0; running; i++) {
			const startedAt = Date.now();
			if (i % 3 === 2 && mine.length > 0) {
				const drop = mine.splice(randomInt(mine.length), 1)[0]!;
				const reply = await request(`${url}/download`, byKey(drop.accessKey, from));
				if (reply.status === 200 && !reply.body.equals(drop.data)) wrongBytes.push('download');
				samples.push({
					op: 'download',
					startedAt,
					endedAt: Date.now(),
					status: reply.status,
					code: reply.status === 200 ? undefined : codeOf(reply)
				});
				continue;
			}
			const drop = {
				accessKey: encodeAccessKey(randomBytes(32)),
				data: randomBytes(2048 + randomInt(8192))
			};
			const reply = await upload(
				url,
				{ data: drop.data },
				{ uses: '3' },
				{ headers: { 'x-access-key': drop.accessKey }, from }
			);
			samples.push({
				op: 'upload',
				startedAt,
				endedAt: Date.now(),
				status: reply.status,
				code: reply.status === 201 ? undefined : codeOf(reply)
			});
			if (reply.status === 201) {
				mine.push(drop);
				answered.push(drop);
			}
		}
	});
	return {
		samples,
		answered,
		wrongBytes,
		async stop() {
			running = false;
			await Promise.all(loops);
		}
	};
}

/** The drops that cannot be found or downloaded byte for byte (8 checked at a time). */
export async function lostDrops(url: string, drops: Drop[]): Promise<string[]> {
	const lost: string[] = [];
	let next = 0;
	await Promise.all(
		Array.from({ length: 8 }, async (_, checker) => {
			const from = `127.0.40.${1 + checker}`;
			while (next < drops.length) {
				const drop = drops[next++]!;
				const status = await request(`${url}/status`, {
					method: 'POST',
					from,
					headers: { 'content-type': 'application/json' },
					body: JSON.stringify({ access_key: drop.accessKey })
				});
				if (status.status !== 200 || json(status).status !== 'active') {
					lost.push(`status ${status.status} ${codeOf(status) ?? ''}`);
					continue;
				}
				const download = await request(`${url}/download`, byKey(drop.accessKey, from));
				if (download.status !== 200 || !download.body.equals(drop.data)) {
					lost.push(`download ${download.status} ${codeOf(download) ?? ''}`);
				}
			}
		})
	);
	return lost;
}

/**
 * Traffic for a while, `replace` the primary (or a master), traffic until uploads answer 201
 * again and a while longer; then every drop answered 201 is looked for. Asserts what holds in
 * every topology (only 503s with a JSON code, bytes intact, recovery within the bound, traffic
 * before and after, no unhandled error), prints the figures and resolves them with the drops
 * answered 201 that are not found: whether those may exist is the caller's to assert.
 */
export async function failOverUnderTraffic(
	topology: string,
	label: string,
	server: TestServer,
	replace: () => Promise<void>
): Promise<{ figures: Record<string, number>; lost: string[] }> {
	const traffic = runTraffic(server.url);
	await sleep(2_000);
	const replacingAt = Date.now();
	await replace();
	const replacedAt = Date.now();
	// Uploads recover by themselves: one that starts after the failover answers 201.
	const recoveredAt = await waitFor(
		() => {
			const ok = traffic.samples.find(
				(s) => s.op === 'upload' && s.startedAt > replacingAt && s.status === 201
			);
			const refused = traffic.samples.filter((s) => s.op === 'upload' && s.status !== 201);
			const lastRefused = Math.max(replacingAt, ...refused.map((s) => s.endedAt));
			const after = traffic.samples.find(
				(s) => s.op === 'upload' && s.startedAt > lastRefused && s.status === 201
			);
			return ok && after ? after.endedAt : 0;
		},
		RECOVERY_BOUND_MS + 5_000,
		'uploads answer 201 again',
		50
	);
	await sleep(2_000);
	await traffic.stop();

	const { samples, answered } = traffic;
	const refused = samples.filter((s) => s.status !== 200 && s.status !== 201);
	// The only refusal is 503 with a JSON error (never a 500, a broken connection, a 404).
	expect(
		refused.filter((s) => s.status !== 503 || !s.code || !/^[A-Z_]+$/.test(s.code)),
		JSON.stringify(refused.slice(0, 5))
	).toEqual([]);
	expect(traffic.wrongBytes).toEqual([]);
	const uploads503 = refused.filter((s) => s.op === 'upload');
	const window503 =
		uploads503.length === 0
			? 0
			: Math.max(...uploads503.map((s) => s.endedAt)) -
				Math.min(...uploads503.map((s) => s.startedAt));
	expect(recoveredAt - replacingAt).toBeLessThan(RECOVERY_BOUND_MS);
	// Traffic went on before and after the failover.
	expect(samples.filter((s) => s.status === 201 && s.endedAt < replacingAt).length).toBeGreaterThan(
		5
	);
	expect(
		samples.filter((s) => s.status === 201 && s.startedAt > recoveredAt).length
	).toBeGreaterThan(5);

	const lost = await lostDrops(server.url, answered);
	expect(server.lines.filter((line) => line.event === 'unhandled_error')).toEqual([]);
	const figures = {
		answered_201: answered.length,
		lost: lost.length,
		uploads_503: uploads503.length,
		downloads_503: refused.length - uploads503.length,
		downloads_200: samples.filter((s) => s.op === 'download' && s.status === 200).length,
		upload_503_window_ms: window503,
		failover_took_ms: replacedAt - replacingAt,
		uploads_201_again_after_ms: recoveredAt - replacingAt,
		// Uploads whose record missed its replicas' acknowledgement (WAIT): 503, not lost.
		unacknowledged: server.lines.filter((line) => line.event === 'store_write_unacknowledged')
			.length,
		client_restarted: server.lines.filter((line) => line.event === 'store_client_restarted').length
	};
	console.log(`${topology} failover (${label}):`, JSON.stringify(figures), lost.slice(0, 5));
	return { figures, lost };
}
