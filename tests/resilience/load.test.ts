/**
 * Load held: 50 concurrent 1 MiB uploads and 50 concurrent downloads at the same time, mixed
 * with failed lookups from other addresses (which get themselves blocked). Zero errors but
 * the intended 429s, no drop lost or mixed up, memory bounded. The figures are printed for
 * the README.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { expect, test } from 'vitest';
import { json, request, upload, type Reply } from '../helpers/http';
import { processFigures, sampleRss, waitFor } from '../helpers/processes.js';
import { serverForTests } from '../helpers/running';
import { filesIn, randomData, unknownPassphrase } from './support';

const MiB = 1024 * 1024;
const CONCURRENT = 50;
const FAIL_LIMIT = 10;
const ATTACKERS = 5;
const GUESSES = 15;

const { server, redis } = serverForTests({
	UPLOAD_RATE_LIMIT: '10000/hour',
	LOOKUP_RATE_LIMIT: '100000/hour',
	DOWNLOAD_FAIL_LIMIT: String(FAIL_LIMIT)
});

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

type Timed = { reply: Reply; ms: number };
async function timed(work: () => Promise<Reply>): Promise<Timed> {
	const started = performance.now();
	const reply = await work();
	return { reply, ms: performance.now() - started };
}

function percentiles(values: number[]) {
	const sorted = [...values].sort((x, y) => x - y);
	const at = (p: number) =>
		Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!);
	return { p50: at(0.5), p95: at(0.95), max: Math.round(sorted[sorted.length - 1]!) };
}

/** Run `tasks` with at most `limit` at once. */
async function pooled<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
	const results: T[] = [];
	let next = 0;
	await Promise.all(
		Array.from({ length: limit }, async () => {
			while (next < tasks.length) {
				const index = next++;
				results[index] = await tasks[index]!();
			}
		})
	);
	return results;
}

test(
	'50 uploads and 50 downloads at once, with guessing from other addresses: only the intended 429s',
	{ timeout: 180_000 },
	async () => {
		// Drops to download during the load, each with two uses (one taken under load).
		const seeded = await pooled(
			Array.from({ length: CONCURRENT }, () => async () => {
				const data = randomData(MiB);
				const reply = await upload(server.url, { data }, { uses: '2' });
				expect(reply.status).toBe(201);
				return { key: json<{ key: string }>(reply).key, data };
			}),
			8
		);
		const pid = server.process.pid!;
		const before = processFigures(pid);
		const rss = sampleRss(pid, 50);

		const fresh = Array.from({ length: CONCURRENT }, () => randomData(MiB));
		const startedAt = performance.now();
		const [uploads, downloads, guesses] = await Promise.all([
			Promise.all(
				fresh.map((data, i) =>
					timed(() => upload(server.url, { data }, {}, { from: `127.0.1.${1 + i}` }))
				)
			),
			Promise.all(
				seeded.map((drop, i) =>
					timed(() => request(`${server.url}/download/${drop.key}`, { from: `127.0.2.${1 + i}` }))
				)
			),
			Promise.all(
				Array.from({ length: ATTACKERS }, async (_, attacker) => {
					const statuses: number[] = [];
					for (let i = 0; i < GUESSES; i++) {
						const route = ['download', 'status', 'preview'][i % 3]!;
						const reply = await request(`${server.url}/${route}/${unknownPassphrase()}`, {
							from: `127.0.3.${1 + attacker}`
						});
						statuses.push(reply.status);
					}
					return statuses;
				})
			)
		]);
		const elapsedMs = performance.now() - startedAt;
		const peak = rss.stop();

		// Uploads: every one stored, each under its own passphrase.
		expect(uploads.map(({ reply }) => reply.status)).toEqual(Array(CONCURRENT).fill(201));
		const keys = uploads.map(({ reply }) => json<{ key: string; sha256: string }>(reply));
		expect(new Set(keys.map(({ key }) => key)).size).toBe(CONCURRENT);
		for (const { key } of keys) expect(seeded.some((drop) => drop.key === key)).toBe(false);
		keys.forEach(({ sha256: digest }, i) => expect(digest).toBe(sha256(fresh[i]!)));
		// Downloads: every one whole, each its own bytes.
		downloads.forEach(({ reply }, i) => {
			expect(reply.status).toBe(200);
			expect(reply.error).toBeUndefined();
			expect(sha256(reply.body)).toBe(sha256(seeded[i]!.data));
		});
		// Guessing: the first FAIL_LIMIT unknowns are 404, then the address is blocked (429).
		for (const statuses of guesses) {
			expect(statuses).toEqual([
				...Array(FAIL_LIMIT).fill(404),
				...Array(GUESSES - FAIL_LIMIT).fill(429)
			]);
		}

		// Afterwards: each new drop downloads its own bytes exactly; the seeded ones have one use left.
		const checks = await pooled(
			keys.map(({ key }, i) => async () => {
				const reply = await request(`${server.url}/download/${key}`);
				return reply.status === 200 && sha256(reply.body) === sha256(fresh[i]!);
			}),
			10
		);
		expect(checks.every(Boolean)).toBe(true);
		for (const drop of seeded.slice(0, 5)) {
			expect(json(await request(`${server.url}/status/${drop.key}`))).toMatchObject({
				remaining_uses: 1
			});
		}
		const uploadsDir = path.join(server.dir, 'uploads');
		await waitFor(() => filesIn(uploadsDir).length === CONCURRENT, 10_000, 'burned files shredded');
		expect(filesIn(path.join(server.dir, 'temp'))).toEqual([]);
		expect((await redis.client().keys('rz:{*}:drop')).length).toBe(CONCURRENT);
		expect(server.lines.filter((line) => line.event === 'unhandled_error')).toEqual([]);
		const after = processFigures(pid);
		expect(peak).toBeLessThan(600);

		const figures = {
			concurrent: { uploads: CONCURRENT, downloads: CONCURRENT, guessing_addresses: ATTACKERS },
			wall_ms: Math.round(elapsedMs),
			upload_ms: percentiles(uploads.map(({ ms }) => ms)),
			download_ms: percentiles(downloads.map(({ ms }) => ms)),
			throughput_mib_s: Math.round(((2 * CONCURRENT) / (elapsedMs / 1000)) * 10) / 10,
			guesses: {
				answered_404: ATTACKERS * FAIL_LIMIT,
				answered_429: ATTACKERS * (GUESSES - FAIL_LIMIT)
			},
			rss_mib: { before: before.rssMiB, peak, after: after.rssMiB },
			fds: { before: before.fds, after: after.fds }
		};
		console.log('load held:', JSON.stringify(figures));
	}
);
