/**
 * The abuse scenario of issue #12: 300 spoofed client addresses (through ADDRESS_HEADER on
 * loopback, as a proxy would pass them) flood passphrase lookups for 20 s, while one victim
 * polls its own drop by access key (as the pages do) and another by passphrase (as curl does).
 * With the default limits: the access-key victim's p95 stays within 3 x its baseline; the
 * passphrase victim gets its answer or a 503 within 2 s, never a longer wait; nothing stored
 * is lost; the server stays under 300 MB. The figures are printed for the README's failure
 * table.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { expect, test } from 'vitest';
import { json, request, upload } from '../helpers/http';
import { sampleRss, sleep } from '../helpers/processes.js';
import { serverForTests } from '../helpers/running';
import { accessKeyFromPassphrase, encodeAccessKey } from '../../src/lib/server/crypto/access-key';
import { unknownPassphrase } from './support';

const ATTACKERS = 300;
const FLOOD_MS = 20_000;
const BASELINE_MS = 8_000;
/** Attack connections open at once: enough to keep the scrypt queue full all along. */
const ATTACK_CONNECTIONS = 96;
/** Under LOOKUP_RATE_LIMIT (120 a minute): a victim polls as often as the limit lets it. */
const POLL_EVERY_MS = 600;

// Every limit at its default, the scrypt queue's bounds included (the test helpers raise them).
const { server } = serverForTests({
	ADDRESS_HEADER: 'x-forwarded-for',
	KDF_QUEUE_LIMIT: '100',
	KDF_MAX_WAIT_MS: '1500'
});

const as = (address: string) => ({ 'x-forwarded-for': address });
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

type Sample = { status: number; ms: number };

/** Poll `once` every POLL_EVERY_MS until `stop` says so. */
async function poll(once: () => Promise<number>, stop: () => boolean): Promise<Sample[]> {
	const samples: Sample[] = [];
	while (!stop()) {
		const started = performance.now();
		const status = await once();
		const ms = performance.now() - started;
		samples.push({ status, ms });
		await sleep(Math.max(0, POLL_EVERY_MS - ms));
	}
	return samples;
}

function percentile(samples: Sample[], p: number): number {
	const sorted = samples.map(({ ms }) => ms).sort((a, b) => a - b);
	return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN);
}

const figures = (samples: Sample[]) => ({
	n: samples.length,
	p50: percentile(samples, 0.5),
	p95: percentile(samples, 0.95),
	max: percentile(samples, 1),
	statuses: countBy(samples.map(({ status }) => status))
});

function countBy(values: number[]): Record<string, number> {
	const counts: Record<string, number> = {};
	for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
	return counts;
}

/** The flood: unknown passphrases from ATTACKERS addresses in turn, as fast as it is answered. */
async function flood(url: string, until: () => boolean) {
	const agent = new http.Agent({ keepAlive: true, maxSockets: ATTACK_CONNECTIONS });
	const statuses: number[] = [];
	let sent = 0;
	const once = (address: string) =>
		new Promise<number>((resolve) => {
			const req = http.get(`${url}/status/${unknownPassphrase()}`, { agent, headers: as(address) });
			req.on('response', (res) => {
				res.resume();
				res.on('end', () => resolve(res.statusCode ?? 0));
				res.on('error', () => resolve(0));
			});
			req.on('error', () => resolve(0));
		});
	await Promise.all(
		Array.from({ length: ATTACK_CONNECTIONS }, async () => {
			while (!until()) {
				const attacker = sent++ % ATTACKERS;
				statuses.push(await once(`10.66.${attacker >> 8}.${attacker & 255}`));
			}
		})
	);
	agent.destroy();
	return statuses;
}

test(
	'300 spoofed addresses flooding passphrase lookups: the victims are answered in time, nothing is lost',
	{ timeout: 120_000 },
	async () => {
		// Victim A sends by access key, as the pages do; victim B by passphrase, as curl does.
		const accessA = await accessKeyFromPassphrase(randomBytes(16).toString('hex'));
		const keyA = encodeAccessKey(accessA);
		const fileA = randomBytes(64 * 1024);
		const fileB = randomBytes(64 * 1024);
		const sentA = await upload(
			server.url,
			{ data: fileA },
			{ uses: '5' },
			{ headers: { ...as('198.51.100.1'), 'x-access-key': keyA } }
		);
		expect(sentA.status).toBe(201);
		const sentB = await upload(
			server.url,
			{ data: fileB },
			{ uses: '5' },
			{ headers: as('198.51.100.2') }
		);
		expect(sentB.status).toBe(201);
		const passphraseB = json<{ key: string }>(sentB).key;

		const statusA = async () =>
			(
				await request(`${server.url}/status`, {
					method: 'POST',
					headers: { ...as('198.51.100.1'), 'x-access-key': keyA }
				})
			).status;
		const statusB = async () =>
			(await request(`${server.url}/status/${passphraseB}`, { headers: as('198.51.100.2') }))
				.status;

		// Baseline: the victims alone.
		let end = performance.now() + BASELINE_MS;
		const stopAt = () => performance.now() >= end;
		const [baseA, baseB] = await Promise.all([poll(statusA, stopAt), poll(statusB, stopAt)]);

		// The flood, with the victims polling through it.
		const rss = sampleRss(server.process.pid!, 100);
		end = performance.now() + FLOOD_MS;
		const floodStarted = performance.now();
		const [attacked, underA, underB] = await Promise.all([
			flood(server.url, stopAt),
			// Let the queue fill before the victims start measuring.
			sleep(1000).then(() => poll(statusA, stopAt)),
			sleep(1000).then(() => poll(statusB, stopAt))
		]);
		const floodSeconds = (performance.now() - floodStarted) / 1000;
		const peakRss = rss.stop();

		const report = {
			baseline: { accessKey: figures(baseA), passphrase: figures(baseB) },
			flood: { accessKey: figures(underA), passphrase: figures(underB) },
			attackers: {
				requests: attacked.length,
				perSecond: Math.round(attacked.length / floodSeconds),
				statuses: countBy(attacked)
			},
			peakRssMiB: Math.round(peakRss)
		};
		console.log(`abuse scenario: ${JSON.stringify(report)}`);

		// The access-key victim: always answered, p95 within 3 x its baseline's.
		expect(underA.every(({ status }) => status === 200)).toBe(true);
		expect(percentile(underA, 0.95)).toBeLessThanOrEqual(3 * Math.max(percentile(baseA, 0.95), 20));
		// The passphrase victim: its answer or a 503 (with Retry-After), each within 2 s.
		expect(underB.every(({ status }) => status === 200 || status === 503)).toBe(true);
		expect(underB.some(({ status }) => status === 200)).toBe(true);
		for (const sample of underB) expect(sample.ms).toBeLessThanOrEqual(2000);
		// The attackers got no drop, only refusals: unknown, shed, rate-limited or blocked.
		expect(Object.keys(report.attackers.statuses).sort()).toEqual(
			expect.arrayContaining(['404', '503'])
		);
		for (const status of attacked) expect([404, 429, 503]).toContain(status);
		expect(peakRss).toBeLessThan(300);

		// Nothing lost: both drops download whole, with a use each.
		const gotA = await request(`${server.url}/download`, {
			method: 'POST',
			headers: { ...as('198.51.100.1'), 'x-access-key': keyA }
		});
		expect(gotA.status).toBe(200);
		expect(sha256(gotA.body)).toBe(sha256(fileA));
		const gotB = await request(`${server.url}/download/${passphraseB}`, {
			headers: as('198.51.100.2')
		});
		expect(gotB.status).toBe(200);
		expect(sha256(gotB.body)).toBe(sha256(fileB));
	}
);
