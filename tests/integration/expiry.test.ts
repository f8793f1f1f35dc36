/**
 * Self-destruction by time, on both stores at once (the wait is the same minute): a drop
 * with expiry=1 disappears at its time, its status says expired, and its file is shredded by
 * the every-minute sweep, which gives its storage quota back. Leftovers of a crash are cleaned
 * at start-up and by the sweep.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { json, request, upload } from '../helpers/http';
import { sleep, startRedis, startServer } from '../helpers/processes.js';
import type { TestRedis, TestServer } from '../helpers/processes.js';

const STRAY_PART = 'a'.repeat(32) + '.part';
const STRAY_STORED = 'b'.repeat(32) + '.rzf';

let redis: TestRedis;
let cappedRedis: TestRedis;
const servers: TestServer[] = [];

/** A crashed earlier run: a half-written upload and a stored file without a record. */
function leaveCrashDebris(dir: string) {
	mkdirSync(path.join(dir, 'temp'), { recursive: true });
	mkdirSync(path.join(dir, 'uploads'), { recursive: true });
	writeFileSync(path.join(dir, 'temp', STRAY_PART), 'half an upload');
	writeFileSync(path.join(dir, 'uploads', STRAY_STORED), 'a drop whose record was lost');
}

beforeAll(async () => {
	redis = await startRedis();
	servers.push(await startServer({}, { beforeStart: leaveCrashDebris }));
	servers.push(await startServer({ REDIS_URL: redis.url }, { beforeStart: leaveCrashDebris }));
	// Room for one drop only (a Redis of its own: instances on one Redis share the sweep's
	// lock, and these do not share their folders as real instances would).
	cappedRedis = await startRedis();
	servers.push(
		await startServer(
			{ REDIS_URL: cappedRedis.url, MAX_LIVE_DROPS: '1' },
			{ beforeStart: leaveCrashDebris }
		)
	);
});

afterAll(async () => {
	await Promise.all(servers.map((server) => server.stop()));
	await redis?.stop();
	await cappedRedis?.stop();
});

test('stale temp parts are gone at start-up', () => {
	for (const server of servers) {
		expect(readdirSync(path.join(server.dir, 'temp'))).toEqual([]);
		expect(server.lines.some((l) => l.event === 'startup_temp_cleanup')).toBe(true);
	}
});

test(
	'an expired drop is refused, says expired, and its file is shredded within a minute',
	{ timeout: 200_000 },
	async () => {
		const created = await Promise.all(
			servers.map(async (server) => {
				const reply = await upload(server.url, { data: 'short-lived' }, { expiry: '1' });
				expect(reply.status).toBe(201);
				return json<{ key: string; expires_at: string }>(reply);
			})
		);
		const capped = servers[2]!;
		const full = await upload(capped.url, { data: 'no room' });
		expect(full.status).toBe(507);
		expect(json(full)).toMatchObject({ error_code: 'STORAGE_QUOTA' });
		const expiresAt = Date.parse(created[0]!.expires_at);
		await sleep(Math.max(0, expiresAt - Date.now()) + 500);

		for (const [i, server] of servers.entries()) {
			const { key } = created[i]!;
			const status = await request(`${server.url}/status/${key}`);
			expect(json(status)).toMatchObject({ status: 'expired', is_accessible: false });
			const download = await request(`${server.url}/download/${key}`);
			expect(download.status).toBe(410);
			expect(json(download)).toMatchObject({ error_code: 'EXPIRED' });
		}

		// The sweep runs every minute: the file must be gone within 60 s (+ a little slack).
		const shredded = await Promise.all(
			servers.map(async (server) => {
				const dir = path.join(server.dir, 'uploads');
				for (;;) {
					if (readdirSync(dir).length === 0) return Date.now() - expiresAt;
					if (Date.now() - expiresAt > 65_000) return Infinity;
					await sleep(500);
				}
			})
		);
		for (const delay of shredded) expect(delay).toBeLessThan(65_000);
		// The stored file without a record went in the same sweep.
		for (const server of servers) {
			expect(server.lines.some((l) => l.event === 'sweep_expired' && Number(l.shredded) >= 1)).toBe(
				true
			);
		}
		// Expiry gave the two drops' places back (the sweep released their quota holds).
		expect((await upload(capped.url, { data: 'room again' })).status).toBe(201);
		console.log(
			`expired files shredded ${shredded.map((ms) => `${Math.round(ms / 1000)} s`).join(' and ')} after expiry`
		);
	}
);
