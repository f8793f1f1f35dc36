/**
 * A sentinel-managed primary fails over under traffic (issue #15, item 3): the built server on
 * a primary + replica + 3 sentinels (tests/helpers/redis-ha.js), six clients uploading and
 * downloading without a pause, and the primary replaced mid-traffic, planned (SENTINEL
 * FAILOVER) and by a SIGKILL. Every drop answered 201 must be there afterwards (its status by
 * access key, its bytes), uploads must answer 201 again within 15 s without help, and the
 * only 5xx allowed is 503 with a JSON error. Each case gets a topology of its own: the
 * sentinels refuse a second failover of one primary within twice the failover timeout.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { encodeAccessKey } from '../../src/lib/server/crypto/access-key';
import { json, request, upload, type Reply } from '../helpers/http';
import { sleep, startServer, stopProcess, waitFor } from '../helpers/processes.js';
import type { TestServer } from '../helpers/processes.js';
import { ask, startSentinelRedis, type SentinelRedis } from '../helpers/redis-ha.js';

const PASSWORD = 'failover-test-password';
const WORKERS = 6;
const RECOVERY_BOUND_MS = 15_000;
const ENV = {
	UPLOAD_RATE_LIMIT: '100000/hour',
	LOOKUP_RATE_LIMIT: '100000/hour',
	HEALTH_RATE_LIMIT: '1000/second'
};

type Setup = { redis: SentinelRedis; server: TestServer };
let planned: Setup;
let killed: Setup;

async function setUp(): Promise<Setup> {
	// A split vote among the sentinels is retried after twice the failover timeout: 6 s, not
	// the helper's 20 s (seen once in ten runs with 10 s: no primary within 15 s of a kill).
	const redis = await startSentinelRedis({ password: PASSWORD, failoverTimeoutMs: 3_000 });
	const server = await startServer({ ...ENV, ...redis.env });
	return { redis, server };
}

beforeAll(async () => {
	[planned, killed] = await Promise.all([setUp(), setUp()]);
}, 90_000);

afterAll(async () => {
	for (const setup of [planned, killed]) {
		await setup?.server.stop();
		await setup?.redis.stop();
	}
}, 30_000);

type Drop = { accessKey: string; data: Buffer };
type Sample = {
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
function runTraffic(url: string) {
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
async function lostDrops(url: string, drops: Drop[]): Promise<string[]> {
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
 * Traffic for a while, `replace` the primary, traffic until uploads answer 201 again and a
 * while longer; then every drop answered 201 is looked for. Resolves the figures.
 */
async function failOverUnderTraffic(
	label: string,
	{ server }: Setup,
	replace: () => Promise<void>
): Promise<Record<string, number>> {
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
	console.log(`Sentinel failover (${label}):`, JSON.stringify(figures), lost.slice(0, 5));
	expect(lost).toEqual([]);
	return figures;
}

test('SENTINEL FAILOVER under traffic: no drop answered 201 is lost, uploads recover by themselves', async () => {
	await failOverUnderTraffic('planned', planned, async () => {
		await planned.redis.failover();
	});
});

test('the primary SIGKILLed under traffic: no drop answered 201 is lost, uploads recover by themselves', async () => {
	const { redis } = killed;
	const before = await redis.primary();
	await failOverUnderTraffic('primary SIGKILLed', killed, async () => {
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
	});
});
