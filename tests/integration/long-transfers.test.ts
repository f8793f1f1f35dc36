/**
 * Transfers that take longer than the store entries guarding them: an upload's reservation
 * (RESERVATION_TTL_SECONDS) and a download's reader mark (READER_TTL_SECONDS). Both are
 * shortened to 3 s here, and a live transfer must keep its entry by refreshing it; without
 * that, the entry lapses mid-transfer and its file is treated as unneeded:
 * - a download that stalls past the reader TTL while a second download of the same drop (its
 *   last use) finishes: the second one's release found no other reader and shredded the file
 *   under the first, which then broke off;
 * - an upload that streams past the reservation TTL while another instance sharing the folders
 *   starts: its start-up clean-up removed the part as a crash's leftover, and the upload failed.
 * (The every-minute expiry sweep shredding a stalled download's file is the same lapse, shown
 * in tests/resilience/long-transfers.test.ts, since it needs the top of a minute.) A Redis
 * outage during a transfer makes the refresh fail: logged, never thrown.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { json, pausedDownload as pausedDownloadOf, request, upload } from '../helpers/http';
import { sleep, startServer, waitFor } from '../helpers/processes.js';
import type { TestServer } from '../helpers/processes.js';
import { serverForTests } from '../helpers/running';
import { filesIn, randomData, slowUpload } from '../resilience/support';

const TTL_S = 3;
/**
 * Larger than what loopback's socket buffers hold (several MiB each way), so a client that
 * stops reading really leaves the server with most of the file still to read from disk.
 */
const BIG = 32 * 1024 * 1024;

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Connections a failed test would leave open, holding up its server's shutdown. */
const hangUps: (() => void)[] = [];
afterEach(() => {
	for (const hangUp of hangUps.splice(0)) hangUp();
});

const pausedDownload = (url: string, from: string) => pausedDownloadOf(url, from, hangUps);

const refreshTrouble = (server: TestServer) =>
	server.lines.filter((line) => /_refresh_(lost|failed)$/.test(line.event ?? ''));

describe.each(['memory', 'redis'] as const)('on the %s store', (storeKind) => {
	const { server, redis } = serverForTests(
		{
			READER_TTL_SECONDS: String(TTL_S),
			RESERVATION_TTL_SECONDS: String(TTL_S),
			UPLOAD_RATE_LIMIT: '1000/hour',
			MAX_FILE_SIZE: String(BIG)
		},
		{ store: storeKind }
	);
	let nextClient = storeKind === 'redis' ? 120 : 20;
	const client = () => `127.0.3.${nextClient++}`;
	const uploads = () => path.join(server.dir, 'uploads');

	test(
		'a download that stalls past READER_TTL_SECONDS keeps its file while another one finishes, and arrives intact',
		{ timeout: 60_000 },
		async () => {
			const data = randomData(BIG);
			const created = await upload(server.url, { data }, { uses: '2' }, { from: client() });
			expect(created.status).toBe(201);
			const { key, sha256: expected } = json<{ key: string; sha256: string }>(created);
			expect(expected).toBe(sha256(data));
			const [stored] = filesIn(uploads());
			expect(stored).toMatch(/^[0-9a-f]{32}\.rzf$/);
			const id = stored!.slice(0, -'.rzf'.length);

			const first = await pausedDownload(`${server.url}/download/${key}`, client());
			expect(first.status).toBe(200);
			// Stalled for longer than the reader TTL: only the refresh keeps its mark.
			await sleep(TTL_S * 1000 + 2000);
			// Soft, so that without the refresh the test goes on to show the broken download.
			if (storeKind === 'redis')
				expect.soft(await redis.client().pttl(`rz:{${id}}:readers`)).toBeGreaterThan(0);

			// The last use, read at once: when it finishes, the first download still reads the file.
			const second = await request(`${server.url}/download/${key}`, { from: client() });
			expect(second.status).toBe(200);
			expect(sha256(second.body)).toBe(expected);
			// Its reader is released (and the file shredded, were it the last) just after the end.
			await sleep(1000);
			expect
				.soft(filesIn(uploads()), 'the file is kept for the stalled download')
				.toEqual([stored]);

			const rest = await first.resume();
			expect(rest.error).toBeUndefined();
			expect(rest.body.length).toBe(BIG);
			expect(sha256(rest.body)).toBe(expected);
			// The last reader gone, the burned drop's file is shredded, and its mark is gone too.
			await waitFor(() => filesIn(uploads()).length === 0, 5000, 'the burned file shredded');
			if (storeKind === 'redis') expect(await redis.client().exists(`rz:{${id}}:readers`)).toBe(0);
			expect(refreshTrouble(server)).toEqual([]);
		}
	);
});

describe('an upload on the redis store', () => {
	const { server, redis } = serverForTests({
		RESERVATION_TTL_SECONDS: String(TTL_S),
		UPLOAD_RATE_LIMIT: '1000/hour'
	});
	const others: TestServer[] = [];

	afterEach(async () => {
		await Promise.all(others.splice(0).map((other) => other.stop()));
	});

	test(
		'that streams past RESERVATION_TTL_SECONDS keeps its reservation and part, and completes',
		{ timeout: 60_000 },
		async () => {
			const temp = path.join(server.dir, 'temp');
			const data = randomData(4 * 1024 * 1024);
			const slow = slowUpload(server.url, data, { fields: { uses: '1' }, from: '127.0.4.1' });
			hangUps.push(() => slow.abort());
			await slow.started;
			const [part] = await waitFor(
				() => {
					const parts = filesIn(temp);
					return parts.length === 1 && parts;
				},
				5000,
				'the part being written'
			);
			expect(part).toMatch(/^[0-9a-f]{32}\.part$/);
			const id = part!.slice(0, -'.part'.length);

			// Longer than the reservation TTL, mid-body: only the refresh keeps it.
			await sleep(TTL_S * 1000 + 2000);
			const owner = await redis.client().get(`rz:{${id}}:reserve`);
			// Soft, so that without the refresh the test goes on to show the upload failing.
			expect.soft(owner, 'the reservation is still held').toEqual(expect.any(String));
			expect.soft(await redis.client().pttl(`rz:{${id}}:reserve`)).toBeGreaterThan(0);

			// Another instance sharing the folders starts now: its start-up clean-up removes the
			// temp parts that no upload holds, and must leave this one alone.
			const other = await startServer({
				REDIS_URL: redis.url,
				STORAGE_PATH: path.join(server.dir, 'uploads'),
				TEMP_PATH: temp
			});
			others.push(other);
			expect.soft(other.lines.find((line) => line.event === 'startup_temp_cleanup')).toMatchObject({
				checked: 1,
				kept: 1,
				shredded: 0
			});
			expect.soft(filesIn(temp)).toEqual([part]);

			slow.finish();
			const reply = await slow.reply;
			expect(reply.status).toBe(201);
			const { key, sha256: expected } = json<{ key: string; sha256: string }>(reply);
			expect(expected).toBe(sha256(data));
			// createDrop took the reservation over; no refresh (one a second) brings it back.
			await sleep(1500);
			expect(await redis.client().exists(`rz:{${id}}:reserve`)).toBe(0);

			const downloaded = await request(`${server.url}/download/${key}`, { from: '127.0.4.2' });
			expect(downloaded.status).toBe(200);
			expect(sha256(downloaded.body)).toBe(expected);
			expect(refreshTrouble(server)).toEqual([]);
		}
	);
});

describe('a Redis outage while a download stalls', () => {
	const { server, redis } = serverForTests({
		READER_TTL_SECONDS: String(TTL_S),
		UPLOAD_RATE_LIMIT: '1000/hour',
		MAX_FILE_SIZE: String(BIG)
	});

	test('is logged by the refresh, crashes nothing, and the download still arrives intact', async () => {
		const data = randomData(BIG);
		const created = await upload(server.url, { data }, { uses: '1' }, { from: '127.0.5.1' });
		expect(created.status).toBe(201);
		const { key, sha256: expected } = json<{ key: string; sha256: string }>(created);
		const stalled = await pausedDownload(`${server.url}/download/${key}`, '127.0.5.2');
		expect(stalled.status).toBe(200);

		await redis.stop();
		await server.waitForLine((line) => line.event === 'reader_refresh_failed', 5000);
		await sleep(1500);
		expect(server.process.exitCode).toBeNull();
		await redis.start();

		const rest = await stalled.resume();
		expect(rest.error).toBeUndefined();
		expect(sha256(rest.body)).toBe(expected);
		expect(server.process.exitCode).toBeNull();
		expect(server.lines.filter((line) => line.event === 'unhandled_error')).toEqual([]);
	});
});
