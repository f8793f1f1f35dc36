/**
 * "Destroy now" (issue #13): the sender burns a drop with uses left. Afterwards it reads as
 * burned, opens for nobody, and its file is shredded; a download already under way still
 * arrives whole, and the file goes once it ends. Naming a drop that is not there counts
 * toward the brute-force block like any other lookup.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { accessKeyFromPassphrase, encodeAccessKey } from '../../src/lib/server/crypto/access-key';
import { json, pausedDownload, request, upload, type Reply } from '../helpers/http';
import { waitFor } from '../helpers/processes.js';
import { serverForTests } from '../helpers/running';
import { filesIn, randomData, unknownPassphrase } from '../resilience/support';

/** Larger than loopback's socket buffers, so a paused download really holds the file open. */
const BIG = 32 * 1024 * 1024;

const { server } = serverForTests({ DOWNLOAD_FAIL_LIMIT: '3', MAX_FILE_SIZE: String(BIG) });
const stored = () => filesIn(path.join(server.dir, 'uploads'));

const hangUps: (() => void)[] = [];
afterEach(() => {
	for (const hangUp of hangUps.splice(0)) hangUp();
});

const destroy = (from: string, body: Record<string, string>, headers = {}): Promise<Reply> =>
	request(`${server.url}/destroy`, {
		method: 'POST',
		from,
		headers: { 'content-type': 'application/json', ...headers },
		body: JSON.stringify(body)
	});

describe('destroying a drop', () => {
	test('burns it with uses left: status burned, downloads refused, file shredded', async () => {
		const from = '127.0.7.1';
		const created = await upload(server.url, { data: 'changed my mind' }, { uses: '3' }, { from });
		const { key } = json<{ key: string }>(created);
		expect(stored()).toHaveLength(1);

		const destroyed = await destroy(from, { passphrase: key });
		expect(destroyed.status).toBe(200);
		expect(json(destroyed)).toMatchObject({ status: 'burned', remaining_uses: 0, filename: null });
		expect(stored()).toEqual([]);

		const download = await request(`${server.url}/download/${key}`, { from });
		expect(download.status).toBe(410);
		expect(json(download)).toMatchObject({ error_code: 'ALREADY_DOWNLOADED' });
		expect(json(await request(`${server.url}/status/${key}`, { from }))).toMatchObject({
			status: 'burned'
		});
		const again = await destroy(from, { passphrase: key });
		expect(again.status).toBe(410);
		expect(
			server.lines.some((line) => line.event === 'drop_burned' && line.reason === 'destroyed')
		).toBe(true);
	});

	test('works by access key (the pages), and nothing secret is logged', async () => {
		const from = '127.0.7.2';
		const { key } = json<{ key: string }>(await upload(server.url, { data: 'x' }, {}, { from }));
		const accessKey = encodeAccessKey(await accessKeyFromPassphrase(key));
		const destroyed = await destroy(from, {}, { 'x-access-key': accessKey });
		expect(destroyed.status).toBe(200);
		expect(json(destroyed)).toMatchObject({ key: null, status: 'burned' });
		const logged = JSON.stringify(server.lines);
		expect(logged).not.toContain(accessKey);
		expect(logged).not.toContain(key);
	});

	test('a download under way finishes intact; the file goes when it ends', async () => {
		const from = '127.0.7.3';
		const data = randomData(BIG);
		const created = await upload(server.url, { data }, { uses: '2' }, { from });
		const { key } = json<{ key: string }>(created);
		const reading = await pausedDownload(`${server.url}/download/${key}`, from, hangUps);
		expect(reading.status).toBe(200);

		expect((await destroy(from, { passphrase: key })).status).toBe(200);
		expect(stored(), 'kept for the download already reading it').toHaveLength(1);

		const { body, error } = await reading.resume();
		expect(error).toBeUndefined();
		expect(createHash('sha256').update(body).digest('hex')).toBe(
			createHash('sha256').update(data).digest('hex')
		);
		await waitFor(() => stored().length === 0, 5000, 'file shredded after the last reader');
	});

	test('an unknown passphrase is 404 and counts toward the block', async () => {
		const from = '127.0.7.4';
		for (let i = 0; i < 3; i++) {
			const reply = await destroy(from, { passphrase: unknownPassphrase() });
			expect(reply.status).toBe(404);
			expect(json(reply)).toMatchObject({ error_code: 'UNKNOWN_PASSPHRASE' });
		}
		const blocked = await destroy(from, { passphrase: unknownPassphrase() });
		expect(blocked.status).toBe(429);
	});

	test('a cross-site subresource cannot destroy (or count a guess)', async () => {
		const from = '127.0.7.5';
		const { key } = json<{ key: string }>(await upload(server.url, { data: 'x' }, {}, { from }));
		const forged = await destroy(
			from,
			{ passphrase: key },
			{ 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' }
		);
		expect(forged.status).toBe(403);
		expect(json(await request(`${server.url}/status/${key}`, { from }))).toMatchObject({
			status: 'active'
		});
	});
});
