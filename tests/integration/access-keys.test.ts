/**
 * Naming a drop by its access key over HTTP, as the pages do (issue #11): uploads with
 * `X-Access-Key`, lookups with `access_key` in the body or the header; and both ways across:
 * what was sent by key opens with the passphrase in the seed's GET path, and the reverse.
 * The access key never appears in a log line.
 */
import { describe, expect, test } from 'vitest';
import { accessKeyFromPassphrase, encodeAccessKey } from '../../src/lib/server/crypto/access-key';
import { json, request, upload } from '../helpers/http';
import { serverForTests } from '../helpers/running';

const { server } = serverForTests({ DOWNLOAD_FAIL_LIMIT: '3' });

const WORDS = ['abacus', 'abdomen', 'abide', 'able', 'acorn', 'acre', 'acts', 'zoom'];
const passphraseFrom = (seed: number) =>
	[0, 1, 2, 3].map((index) => WORDS[(seed * 7 + index * 3) % WORDS.length]).join('-');
const accessOf = async (passphrase: string) =>
	encodeAccessKey(await accessKeyFromPassphrase(passphrase));

describe('a drop sent with its access key', () => {
	test('is created without a key or links, and opens by access key and by passphrase', async () => {
		const passphrase = passphraseFrom(1);
		const accessKey = await accessOf(passphrase);
		const created = await upload(
			server.url,
			{ data: 'sent by key', filename: 'k.txt' },
			{ uses: '3' },
			{ headers: { 'x-access-key': accessKey }, from: '127.0.0.41' }
		);
		expect(created.status).toBe(201);
		const body = json(created);
		expect(body).not.toHaveProperty('key');
		expect(body).not.toHaveProperty('download_url');
		expect(body).toMatchObject({ filename: 'k.txt', size: 11, uses: 3 });

		const status = await request(`${server.url}/status`, {
			method: 'POST',
			from: '127.0.0.41',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ access_key: accessKey })
		});
		expect(status.status).toBe(200);
		expect(json(status)).toMatchObject({ key: null, status: 'active', remaining_uses: 3 });

		const byHeader = await request(`${server.url}/download`, {
			method: 'POST',
			from: '127.0.0.41',
			headers: { 'x-access-key': accessKey }
		});
		expect(byHeader.status).toBe(200);
		expect(byHeader.body.toString()).toBe('sent by key');

		// curl with the passphrase in the seed's GET path.
		const byPath = await request(`${server.url}/download/${passphrase}`, { from: '127.0.0.41' });
		expect(byPath.status).toBe(200);
		expect(byPath.body.toString()).toBe('sent by key');
		expect(byPath.headers['x-remaining-uses']).toBe('1');

		// The same access key again: 409, and the page would draw another passphrase.
		const again = await upload(
			server.url,
			{ data: 'again', filename: 'k.txt' },
			{},
			{ headers: { 'x-access-key': accessKey }, from: '127.0.0.41' }
		);
		expect(again.status).toBe(409);
		expect(json(again)).toMatchObject({ error_code: 'DROP_EXISTS' });

		const logged = JSON.stringify(server.lines);
		expect(logged).not.toContain(accessKey);
		expect(logged).not.toContain(passphrase);
	});

	test('a curl upload opens by access key', async () => {
		const created = await upload(server.url, { data: 'by curl' }, {}, { from: '127.0.0.42' });
		expect(created.status).toBe(201);
		const { key } = json<{ key: string }>(created);
		const download = await request(`${server.url}/download`, {
			method: 'POST',
			from: '127.0.0.42',
			headers: { 'content-type': 'application/x-www-form-urlencoded' },
			body: `access_key=${await accessOf(key)}`
		});
		expect(download.status).toBe(200);
		expect(download.body.toString()).toBe('by curl');
	});
});

describe('refused access keys', () => {
	test('a malformed one is 400 INVALID_ACCESS_KEY, on uploads and lookups', async () => {
		const lookup = await request(`${server.url}/status`, {
			method: 'POST',
			from: '127.0.0.43',
			headers: { 'x-access-key': 'not-a-key' }
		});
		expect(lookup.status).toBe(400);
		expect(json(lookup)).toMatchObject({ error_code: 'INVALID_ACCESS_KEY' });
		const sent = await upload(
			server.url,
			{ data: 'x' },
			{},
			{ headers: { 'x-access-key': 'A'.repeat(44) }, from: '127.0.0.43' }
		);
		expect(sent.status).toBe(400);
		expect(json(sent)).toMatchObject({ error_code: 'INVALID_ACCESS_KEY' });
	});

	test('unknown ones count toward the brute-force block like unknown passphrases', async () => {
		const codes: number[] = [];
		for (let guess = 0; guess < 4; guess++) {
			const reply = await request(`${server.url}/status`, {
				method: 'POST',
				from: '127.0.0.44',
				headers: { 'x-access-key': await accessOf(passphraseFrom(guess + 100)) }
			});
			codes.push(reply.status);
		}
		expect(codes).toEqual([404, 404, 404, 429]);
	});
});
