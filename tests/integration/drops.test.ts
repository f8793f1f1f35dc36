/**
 * The drop API end to end, against the built server: once with the in-process store and
 * once with a real redis-server. Every assertion is on what a client or an operator can
 * observe: status codes, bytes, headers, files on disk, keys in Redis, log lines.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import Type, { type Static } from 'typebox';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
	json,
	multipart,
	replyTo,
	request,
	upload,
	uploadParts,
	type Reply
} from '../helpers/http';
import { sleep, startRedis, startServer } from '../helpers/processes.js';
import type { TestRedis, TestServer } from '../helpers/processes.js';
import { CreatedDropBody } from '../../src/lib/schemas';
import { KDF_CONCURRENCY } from '../../src/lib/server/crypto/keys';
import { CONTENTS } from '../../src/lib/drop-bounds';

/**
 * The 201 of POST /upload/, checked against its schema: every field with its format, no other.
 * These uploads let the server draw the passphrase, so `key` and its links are required too.
 */
const ServerDrawnDrop = Type.Required(CreatedDropBody, { additionalProperties: false });
type ServerDrawnDrop = Static<typeof ServerDrawnDrop>;
const ajv = new Ajv2020({ allErrors: true });
addFormats(ajv);
const isCreatedDrop = ajv.compile<ServerDrawnDrop>(ServerDrawnDrop);

function createdFrom(reply: Reply): ServerDrawnDrop {
	expect(reply.status, reply.body.toString()).toBe(201);
	const body = json<unknown>(reply);
	expect(isCreatedDrop(body), ajv.errorsText(isCreatedDrop.errors)).toBe(true);
	return body as ServerDrawnDrop;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Every file under a folder, recursively, as paths relative to it. */
function filesUnder(dir: string): string[] {
	const out: string[] = [];
	const walk = (current: string) => {
		for (const entry of readdirSync(current, { withFileTypes: true })) {
			const full = path.join(current, entry.name);
			if (entry.isDirectory()) walk(full);
			else out.push(path.relative(dir, full));
		}
	};
	walk(dir);
	return out.sort();
}

const stores = ['memory', 'redis'] as const;

describe.each(stores)('drops on the %s store', (storeKind) => {
	let redis: TestRedis | undefined;
	let server: TestServer;
	let storage: string;
	let temp: string;
	let nextClient = 10;
	/** A fresh loopback source address, so limits earned by one test never touch another. */
	const client = () => `127.0.0.${nextClient++ + (storeKind === 'redis' ? 100 : 0)}`;

	beforeAll(async () => {
		if (storeKind === 'redis') redis = await startRedis();
		server = await startServer({
			...(redis ? { REDIS_URL: redis.url } : {}),
			UPLOAD_RATE_LIMIT: '1000/hour',
			MAX_FILE_SIZE: String(4 * 1024 * 1024)
		});
		storage = path.join(server.dir, 'uploads');
		temp = path.join(server.dir, 'temp');
	});

	afterAll(async () => {
		await server?.stop();
		await redis?.stop();
	});

	async function create(
		data: Buffer,
		fields: Record<string, string> = {},
		filename = 'report.bin'
	): Promise<ServerDrawnDrop> {
		const reply = await upload(server.url, { data, filename }, fields, { from: client() });
		return createdFrom(reply);
	}

	test.each([0, 1, 1000, 65_536, 65_537, 3 * 1024 * 1024 + 5])(
		'round trip of %i random bytes: same bytes, same SHA-256, seed fields',
		async (size) => {
			const data = randomBytes(size);
			const created = await create(data, { expiry: '5', uses: '1' });
			expect(created).toMatchObject({
				expiry: 5,
				uses: 1,
				filename: 'report.bin',
				size,
				sha256: sha256(data)
			});
			expect(created.key).toMatch(/^[a-z]+(-[a-z]+){3}$/);
			expect(created.download_url).toBe(`${server.url}/download/${created.key}`);
			expect(created.preview_url).toBe(`${server.url}/preview/${created.key}`);
			expect(new Date(created.created_at).toISOString()).toBe(created.created_at);

			const reply = await request(created.download_url, { from: client() });
			expect(reply.status).toBe(200);
			expect(reply.error).toBeUndefined();
			expect(sha256(reply.body)).toBe(sha256(data));
			expect(reply.headers['content-length']).toBe(String(size));
			expect(reply.headers['x-sha256']).toBe(sha256(data));
			expect(reply.headers['content-disposition']).toBe(
				`attachment; filename="report.bin"; filename*=UTF-8''report.bin`
			);
			expect(reply.headers['x-content-type-options']).toBe('nosniff');
		}
	);

	test('defaults: 10 minutes, one use; the second download is 410 and status says burned', async () => {
		const created = await create(Buffer.from('once'));
		expect(created).toMatchObject({ expiry: 10, uses: 1 });
		const expiresIn = Date.parse(
			json(await request(`${server.url}/status/${created.key}`)).expires_at as string
		);
		expect(expiresIn - Date.now()).toBeGreaterThan(9 * 60_000);

		expect((await request(created.download_url)).status).toBe(200);
		const again = await request(created.download_url);
		expect(again.status).toBe(410);
		expect(json(again)).toMatchObject({ error_code: 'ALREADY_DOWNLOADED' });
		expect(json(await request(`${server.url}/status/${created.key}`))).toMatchObject({
			status: 'burned',
			is_accessible: false,
			remaining_uses: 0
		});
	});

	test('the file is shredded after its last download', async () => {
		const created = await create(randomBytes(10_000));
		expect(filesUnder(storage)).toHaveLength(filesUnder(storage).length);
		const before = filesUnder(storage).length;
		await request(created.download_url);
		// Shredding runs when the response stream ends; give it a moment.
		for (let i = 0; i < 50 && filesUnder(storage).length >= before; i++) {
			await sleep(20);
		}
		expect(filesUnder(storage).length).toBe(before - 1);
		expect(server.lines.some((l) => l.event === 'file_shredded')).toBe(true);
	});

	test('uses=3 with 50 concurrent downloads gives exactly three 200s', async () => {
		const data = randomBytes(50_000);
		const created = await create(data, { uses: '3' });
		const replies = await Promise.all(
			Array.from({ length: 50 }, () => request(created.download_url))
		);
		const ok = replies.filter((r) => r.status === 200);
		expect(ok).toHaveLength(3);
		for (const reply of ok) expect(sha256(reply.body)).toBe(sha256(data));
		expect(replies.filter((r) => r.status === 410)).toHaveLength(47);
	});

	test('two racing previews give exactly one 200, and consume no download', async () => {
		const created = await create(Buffer.from('preview me'), { uses: '2' });
		const [a, b] = await Promise.all([request(created.preview_url), request(created.preview_url)]);
		expect([a.status, b.status].sort()).toEqual([200, 410]);
		const seen = json([a, b].find((r) => r.status === 200)!);
		expect(seen).toMatchObject({
			filename: 'report.bin',
			size: 10,
			mime_type: 'text/plain',
			expiry: 10,
			uses: 2,
			download_url: created.download_url,
			curl_example: `curl -OJ ${created.download_url}`,
			sha256: created.sha256,
			created_at: created.created_at
		});
		expect(seen.minutes_left).toBe(10);
		expect(json(await request(`${server.url}/status/${created.key}`))).toMatchObject({
			remaining_uses: 2
		});
	});

	test('status never consumes a use, by GET or by POST with the passphrase in the body', async () => {
		const created = await create(Buffer.from('look, do not touch'), {}, 'notes.txt');
		for (let i = 0; i < 3; i++) {
			const reply = await request(`${server.url}/status/${created.key}`);
			expect(json(reply)).toMatchObject({
				key: created.key,
				status: 'active',
				remaining_uses: 1,
				is_accessible: true,
				filename: 'notes.txt',
				size: 18
			});
		}
		const posted = await request(`${server.url}/status`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ passphrase: created.key.toUpperCase().replaceAll('-', '  ') })
		});
		expect(json(posted)).toMatchObject({ status: 'active', remaining_uses: 1 });
		expect((await request(created.download_url)).status).toBe(200);
	});

	test('POST /download takes the passphrase from a form body, messy as pasted', async () => {
		const data = randomBytes(2048);
		const created = await create(data);
		const messy = created.key
			.split('-')
			.map((w, i) => (i === 0 ? w.toUpperCase() : w))
			.join(' . ');
		const reply = await request(`${server.url}/download`, {
			method: 'POST',
			headers: { 'content-type': 'application/x-www-form-urlencoded' },
			body: new URLSearchParams({ passphrase: `  ${messy}\n` }).toString()
		});
		expect(reply.status).toBe(200);
		expect(reply.body.equals(data)).toBe(true);
	});

	test('a crafted file name never escapes STORAGE_PATH and comes back sanitised', async () => {
		const cases: [string, string][] = [
			['../../etc/passwd', 'passwd'],
			['..\\..\\windows\\system.ini', 'system.ini'],
			['invoice\u202Efdp.exe', 'invoicefdp.exe'],
			['.hidden', 'hidden'],
			['日本語 ファイル.pdf', '日本語 ファイル.pdf'],
			[`${'a'.repeat(1000)}.txt`, `${'a'.repeat(251)}.txt`]
		];
		for (const [raw, expected] of cases) {
			const reply = await upload(server.url, { data: 'x', filename: raw }, {}, { from: client() });
			expect(reply.status).toBe(201);
			const created = createdFrom(reply);
			expect(created.filename).toBe(expected);
			const download = await request(created.download_url);
			const disposition = download.headers['content-disposition']!;
			expect(disposition).toMatch(
				/^attachment; filename="[\x20-\x7e]*"; filename\*=UTF-8''[A-Za-z0-9%._~!$&+,;=:@-]*$/
			);
			expect(decodeURIComponent(disposition.split("UTF-8''")[1]!)).toBe(expected);
		}
		// A NUL byte cannot stand in a raw header (busboy refuses the part), but RFC 5987
		// encoding can carry one: it is removed.
		const nul = await uploadParts(
			server.url,
			[{ name: 'file', filenameStar: "UTF-8''evil%00na%E2%80%AEme.txt", data: 'x' }],
			{ from: client() }
		);
		expect(json(nul)).toMatchObject({ filename: 'evilname.txt' });
		const raw = await upload(
			server.url,
			{ data: 'x', filename: 'evil\u0000name.txt' },
			{},
			{ from: client() }
		);
		expect(raw.status).toBe(400);
		expect(json(raw)).toMatchObject({ error_code: 'MALFORMED_MULTIPART' });

		for (const name of filesUnder(storage)) expect(name).toMatch(/^[0-9a-f]{32}\.rzf$/);
		expect(filesUnder(temp)).toEqual([]);
		expect(
			filesUnder(server.dir).filter((f) => !f.startsWith('uploads/') && !f.startsWith('logs/'))
		).toEqual([]);
	});

	test('nothing on disk, in the store or in the log holds the plaintext, the file name or the passphrase', async () => {
		const secretText = `top-secret-${randomBytes(8).toString('hex')}`;
		const data = Buffer.from(secretText.repeat(100));
		const filename = `confidential-${randomBytes(4).toString('hex')}.txt`;
		const reply = await upload(server.url, { data, filename }, { uses: '2' }, { from: client() });
		const created = createdFrom(reply);
		await request(`${server.url}/status/${created.key}`);
		await request(created.preview_url);
		await request(created.download_url);

		const needles = [
			secretText,
			filename,
			created.key,
			...created.key.split('-').filter((w) => w.length > 5)
		];
		const haystacks: [string, Buffer][] = [];
		for (const dir of [storage, temp, path.join(server.dir, 'logs')]) {
			for (const file of filesUnder(dir))
				haystacks.push([file, readFileSync(path.join(dir, file))]);
		}
		haystacks.push(['stdout', Buffer.from(JSON.stringify(server.lines))]);
		if (redis) {
			const client = redis.client();
			for (const key of await client.keys('*')) {
				const type = await client.type(key);
				const value =
					type === 'hash'
						? JSON.stringify(await client.hgetall(key))
						: type === 'string'
							? await client.get(key)
							: '';
				haystacks.push([`redis ${key}`, Buffer.from(`${key} ${value}`)]);
			}
			expect(haystacks.some(([name]) => /^redis rz:\{[0-9a-f]+\}:drop$/.test(name))).toBe(true);
		}
		for (const [name, content] of haystacks) {
			for (const needle of needles) {
				expect(content.includes(needle), `${name} contains ${needle}`).toBe(false);
			}
		}
	});

	test('a flipped byte in the stored file breaks its download and is logged', async () => {
		const data = randomBytes(200_000);
		const before = new Set(filesUnder(storage));
		const created = await create(data, { uses: '2' });
		const stored = filesUnder(storage).find((f) => !before.has(f))!;
		const storedPath = path.join(storage, stored);
		const bytes = readFileSync(storedPath);
		bytes[100_000] = bytes[100_000]! ^ 0x40;
		writeFileSync(storedPath, bytes);

		// The first chunk is held back until the next one verifies, so the client gets at most
		// the bytes before the damage, then a broken connection; never a wrong byte.
		const reply = await request(created.download_url);
		expect(reply.error).toBeDefined();
		expect(reply.body.length).toBeLessThan(data.length);
		expect(reply.body.equals(data.subarray(0, reply.body.length))).toBe(true);
		await server.waitForLine((l) => l.event === 'INTEGRITY_CHECK_FAILED');
	});

	test('guesses fired all at once still stop at the limit', async () => {
		// Failures are counted after the scrypt; the block is checked again once a lookup holds
		// its place in its client's queue, so at most KDF_CONCURRENCY - 1 extra guesses slip by.
		const attacker = client();
		const replies = await Promise.all(
			Array.from({ length: 30 }, () =>
				request(`${server.url}/status/abacus-abdomen-abide-able`, { from: attacker })
			)
		);
		const statuses = replies.map((reply) => reply.status);
		expect(statuses.filter((status) => status !== 404 && status !== 429)).toEqual([]);
		const guesses = statuses.filter((status) => status === 404).length;
		expect(guesses).toBeGreaterThanOrEqual(10);
		expect(guesses).toBeLessThanOrEqual(10 + KDF_CONCURRENCY - 1);
	});

	test('the 11th unknown passphrase from one address is 429 on download, preview and status alike', async () => {
		const attacker = client();
		const bystander = client();
		const guesses = Array.from(
			{ length: 10 },
			(_, i) => `abacus-abdomen-abide-${['able', 'ablaze', 'abnormal'][i % 3]}`
		);
		for (const [i, guess] of guesses.entries()) {
			const route = ['download', 'preview', 'status'][i % 3];
			const reply = await request(`${server.url}/${route}/${guess}`, { from: attacker });
			expect(reply.status).toBe(404);
			// Each refusal says how many more guesses the address has before the block.
			expect(json(reply)).toMatchObject({ error_code: 'UNKNOWN_PASSPHRASE', tries_left: 9 - i });
			expect(json(reply).detail).toBe(
				i < 9
					? `No drop has this passphrase. Check each word for typos: after ${i === 8 ? 'one more unknown passphrase' : `${9 - i} more unknown passphrases`} from this network address, it is blocked for 30 minutes.`
					: 'No drop has this passphrase. That was the last try: lookups from this network address are now blocked for 30 minutes.'
			);
		}
		for (const route of ['download', 'preview', 'status']) {
			const reply = await request(`${server.url}/${route}/abacus-abdomen-abide-able`, {
				from: attacker
			});
			expect(reply.status).toBe(429);
			expect(json(reply)).toMatchObject({ error_code: 'TOO_MANY_FAILED_LOOKUPS' });
			expect(Number(reply.headers['retry-after'])).toBeGreaterThan(1700);
			expect(reply.headers['ratelimit-limit']).toBe('10');
		}
		const posted = await request(`${server.url}/download`, {
			method: 'POST',
			from: attacker,
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ passphrase: 'abacus-abdomen-abide-able' })
		});
		expect(posted.status).toBe(429);
		const forged = await request(`${server.url}/status/abacus-abdomen-abide-able`, {
			from: attacker,
			headers: { 'x-forwarded-for': '198.51.100.7', 'x-real-ip': '198.51.100.7' }
		});
		expect(forged.status).toBe(429);
		const other = await request(`${server.url}/status/abacus-abdomen-abide-able`, {
			from: bystander
		});
		expect(other.status).toBe(404);
	});

	test('a malformed passphrase is 400 with suggestions, costs no failure, and is limited on its own', async () => {
		const who = client();
		const reply = await request(`${server.url}/download/abacus-abdomen-abide-velvte`, {
			from: who
		});
		expect(reply.status).toBe(400);
		expect(json(reply)).toMatchObject({
			error_code: 'INVALID_PASSPHRASE',
			unknown_words: [
				{ position: 3, word: 'velvte', suggestions: expect.arrayContaining(['velvet']) }
			]
		});
		expect(json(reply).detail).toContain('Did you mean');
		for (let i = 0; i < 29; i++) {
			expect((await request(`${server.url}/status/qqq-www-eee`, { from: who })).status).toBe(400);
		}
		const limited = await request(`${server.url}/status/qqq-www-eee`, { from: who });
		expect(limited.status).toBe(429);
		expect(limited.headers['retry-after']).toBeDefined();
		// Unknown-but-well-formed lookups were never counted: this address is not blocked.
		expect(
			(await request(`${server.url}/status/abacus-abdomen-abide-able`, { from: who })).status
		).toBe(404);
	});

	test('one byte over MAX_FILE_SIZE is 413 and leaves nothing on disk; exactly the limit is fine', async () => {
		const before = filesUnder(storage);
		const over = await upload(
			server.url,
			{ data: randomBytes(4 * 1024 * 1024 + 1) },
			{},
			{ from: client() }
		);
		expect(over.status).toBe(413);
		expect(json(over)).toMatchObject({ error_code: 'FILE_TOO_LARGE' });
		expect(filesUnder(storage)).toEqual(before);
		expect(filesUnder(temp)).toEqual([]);
		const exact = await upload(
			server.url,
			{ data: randomBytes(4 * 1024 * 1024) },
			{},
			{ from: client() }
		);
		expect(exact.status).toBe(201);
	});

	test('a zip of exactly MAX_FILE_SIZE with the longest list of names allowed is accepted', async () => {
		// 1000 entries whose JSON is exactly CONTENTS.maxBytes (64 KiB), the most busboy keeps.
		const entries = Array.from({ length: CONTENTS.maxEntries }, (_, i) => ({
			name: `folder-${String(i).padStart(4, '0')}/`,
			size: 1
		}));
		const room = CONTENTS.maxBytes - Buffer.byteLength(JSON.stringify(entries));
		const pad = Math.floor(room / entries.length);
		for (const entry of entries) entry.name += 'n'.repeat(pad);
		entries[0]!.name += 'n'.repeat(CONTENTS.maxBytes - Buffer.byteLength(JSON.stringify(entries)));
		const contents = JSON.stringify(entries);
		expect(Buffer.byteLength(contents)).toBe(CONTENTS.maxBytes);
		const reply = await uploadParts(
			server.url,
			[
				{ name: 'kind', data: 'archive' },
				{ name: 'contents', data: contents },
				{ name: 'expiry', data: '60' },
				{ name: 'uses', data: '5' },
				{
					name: 'file',
					filename: `${'a-rather-long-archive-name-'.repeat(9)}.zip`,
					data: Buffer.concat([Buffer.from('PK\x03\x04'), randomBytes(4 * 1024 * 1024 - 4)])
				}
			],
			{ from: client() }
		);
		expect(json(reply)).toMatchObject({ size: 4 * 1024 * 1024 });
		expect(reply.status).toBe(201);
	});

	test('a chunked body past BODY_SIZE_LIMIT is 413 even when the excess is text after the last part', async () => {
		// busboy reads and drops any amount of text after the closing boundary, so only the
		// count of the whole body (MAX_FILE_SIZE + 128 KiB here) stops a client that streams on.
		const { body, contentType } = multipart([{ name: 'file', filename: 'a.bin', data: 'hello' }]);
		const before = filesUnder(storage);
		const reply = await request(`${server.url}/upload/`, {
			method: 'POST',
			from: client(),
			headers: { 'content-type': contentType, 'transfer-encoding': 'chunked' },
			body: Buffer.concat([body, Buffer.alloc(4 * 1024 * 1024 + 129 * 1024, 'x')])
		});
		expect(reply.status).toBe(413);
		expect(json(reply)).toMatchObject({ error_code: 'FILE_TOO_LARGE' });
		expect(filesUnder(storage)).toEqual(before);
		expect(filesUnder(temp)).toEqual([]);
	});

	const fileA = { name: 'file', filename: 'a', data: 'a' };
	const field = (name: string, data: string) => ({ name, data });
	test.each([
		['no file', [field('expiry', '5')], 'MISSING_FILE'],
		['a text field named file', [field('file', 'not a file')], 'MISSING_FILE'],
		['two files', [fileA, { name: 'file', filename: 'b', data: 'b' }], 'MULTIPLE_FILES'],
		['an empty field name', [field('', 'x'), fileA], 'EMPTY_FIELD_NAME'],
		['expiry 0', [field('expiry', '0'), fileA], 'INVALID_EXPIRY'],
		['expiry 61', [field('expiry', '61'), fileA], 'INVALID_EXPIRY'],
		['expiry abc', [field('expiry', 'abc'), fileA], 'INVALID_EXPIRY'],
		['uses 6 after the file', [fileA, field('uses', '6')], 'INVALID_USES'],
		['uses -1', [field('uses', '-1'), fileA], 'INVALID_USES'],
		['the file in another field', [{ ...fileA, name: 'upload' }], 'UNEXPECTED_FILE_FIELD']
	])('%s is 400 %s and leaves nothing behind', async (_, parts, code) => {
		const before = filesUnder(storage);
		const reply = await uploadParts(server.url, parts, { from: client() });
		expect(reply.status).toBe(400);
		expect(json(reply)).toMatchObject({ error_code: code, detail: expect.any(String) });
		expect(filesUnder(storage)).toEqual(before);
		expect(filesUnder(temp)).toEqual([]);
	});

	test('fields may come after the file', async () => {
		const parts = [
			{ name: 'file', filename: 'late.txt', data: 'fields last' },
			field('expiry', '30'),
			field('uses', '5')
		];
		const reply = await uploadParts(server.url, parts, { from: client() });
		expect(reply.status).toBe(201);
		expect(json(reply)).toMatchObject({ expiry: 30, uses: 5, filename: 'late.txt' });
	});

	test('a body that is not multipart, or is cut short, is 400 and leaves nothing behind', async () => {
		const notMultipart = await request(`${server.url}/upload/`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: '{}'
		});
		expect(notMultipart.status).toBe(400);
		expect(json(notMultipart)).toMatchObject({ error_code: 'NOT_MULTIPART' });

		const { body, contentType } = multipart([
			{ name: 'file', filename: 'a', data: randomBytes(100_000) }
		]);
		const truncated = await request(`${server.url}/upload/`, {
			method: 'POST',
			headers: { 'content-type': contentType },
			body: body.subarray(0, 50_000)
		});
		expect(truncated.status).toBe(400);
		expect(json(truncated)).toMatchObject({ error_code: 'MALFORMED_MULTIPART' });
		expect(filesUnder(temp)).toEqual([]);
	});

	test('the type comes from the bytes, never from the client', async () => {
		const png = Buffer.from(
			'89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000a49444154789c6300010000050001',
			'hex'
		);
		const reply = await upload(
			server.url,
			{ data: png, filename: 'photo.txt', contentType: 'text/html' },
			{},
			{ from: client() }
		);
		expect(json(reply)).toMatchObject({ mime_type: 'image/png', filename: 'photo.txt' });
		const html = await upload(
			server.url,
			{ data: '<script>alert(1)</script>', filename: 'x.html', contentType: 'text/html' },
			{},
			{ from: client() }
		);
		const created = createdFrom(html);
		expect(created.mime_type).toBe('text/plain');
		const download = await request(created.download_url);
		expect(download.headers['content-type']).toBe('text/plain');
		expect(download.headers['content-security-policy']).toContain('sandbox');
		expect(download.headers['content-disposition']).toMatch(/^attachment;/);
	});

	test('unknown methods are refused', async () => {
		const reply = await request(`${server.url}/upload/`, { method: 'DELETE' });
		expect(reply.status).toBe(405);
	});

	test('HEAD on a download or preview link consumes nothing (curl -I, link checkers)', async () => {
		const created = await create(Buffer.from('still here'));
		for (const url of [created.download_url, created.preview_url]) {
			const head = await request(url, { method: 'HEAD' });
			expect(head.status).toBe(405);
			expect(head.headers.allow).toBe('GET');
		}
		expect(json(await request(`${server.url}/status/${created.key}`))).toMatchObject({
			remaining_uses: 1
		});
		expect((await request(created.preview_url)).status).toBe(200);
		expect((await request(created.download_url)).body.toString()).toBe('still here');
	});

	if (storeKind === 'redis') {
		test('with Redis down, uploads and lookups answer 503 quickly; they work again when it returns', async () => {
			const created = await create(Buffer.from('survives an outage'));
			await redis!.stop();
			for (const attempt of [
				() => upload(server.url, { data: 'x' }, {}, { from: client() }),
				() => request(created.download_url),
				() => request(`${server.url}/status/${created.key}`)
			]) {
				const started = Date.now();
				const reply: Reply = await attempt();
				expect(reply.status).toBe(503);
				expect(json(reply)).toMatchObject({ error_code: 'STORE_UNAVAILABLE' });
				expect(Date.now() - started).toBeLessThan(3000);
			}
			expect(filesUnder(temp)).toEqual([]);
			await redis!.start();
			for (let i = 0; i < 100; i++) {
				const reply = await upload(server.url, { data: 'back' }, {}, { from: client() });
				if (reply.status === 201) break;
				await sleep(100);
			}
			expect((await upload(server.url, { data: 'back' }, {}, { from: client() })).status).toBe(201);
		});
	}

	test('every stored file is a lookup id, and has a size consistent with the format', () => {
		for (const name of filesUnder(storage)) {
			expect(name).toMatch(/^[0-9a-f]{32}\.rzf$/);
			// A burned drop's file may be shredded between the listing and this look.
			const size = statSync(path.join(storage, name), { throwIfNoEntry: false })?.size;
			if (size !== undefined) expect(size).toBeGreaterThanOrEqual(24 + 16);
		}
	});
});

describe('configuration-specific behaviour', () => {
	let servers: TestServer[] = [];

	afterAll(async () => {
		await Promise.all(servers.map((s) => s.stop()));
		servers = [];
	});

	test("one client's burst of lookups does not queue another client behind all of it", async () => {
		const server = await startServer({ DOWNLOAD_FAIL_LIMIT: '1000' });
		servers.push(server);
		let burstAnswered = 0;
		const burst = Array.from({ length: 40 }, () =>
			request(`${server.url}/status/abacus-abdomen-abide-able`, { from: '127.0.0.41' }).then(
				(reply) => {
					burstAnswered++;
					return reply;
				}
			)
		);
		// Let the burst reach the server first: 40 scrypts, over half a second of work.
		await sleep(100);
		const mine = await request(`${server.url}/status/abacus-abdomen-abide-ablaze`, {
			from: '127.0.0.42'
		});
		const answeredBeforeMine = burstAnswered;
		expect(mine.status).toBe(404);
		expect((await Promise.all(burst)).every((reply) => reply.status === 404)).toBe(true);
		// Behind at most KDF_CONCURRENCY of the burst's derivations, not behind all of them.
		expect(answeredBeforeMine).toBeLessThan(20);
	});

	test('guesses spread over the addresses of one IPv6 /64 are blocked together', async () => {
		const server = await startServer({
			ADDRESS_HEADER: 'x-forwarded-for',
			XFF_DEPTH: '1',
			DOWNLOAD_FAIL_LIMIT: '3',
			IPV6_PREFIX: '64'
		});
		servers.push(server);
		const guessFrom = (address: string) =>
			request(`${server.url}/status/abacus-abdomen-abide-able`, {
				headers: { 'x-forwarded-for': address }
			});
		for (let i = 1; i <= 3; i++) expect((await guessFrom(`2001:db8:7:7::${i}`)).status).toBe(404);
		const fourth = await guessFrom('2001:db8:7:7:ffff::99');
		expect(fourth.status).toBe(429);
		expect(json(fourth)).toMatchObject({ error_code: 'TOO_MANY_FAILED_LOOKUPS' });
		// The neighbouring /64 is someone else.
		expect((await guessFrom('2001:db8:7:8::1')).status).toBe(404);
	});

	test('ALLOWED_MIME_TYPES refuses other types with 415 and keeps nothing', async () => {
		const server = await startServer({ ALLOWED_MIME_TYPES: 'image/png,image/jpeg' });
		servers.push(server);
		const reply = await upload(server.url, {
			data: randomBytes(10_000),
			filename: 'a.png',
			contentType: 'image/png'
		});
		expect(reply.status).toBe(415);
		expect(json(reply)).toMatchObject({ error_code: 'UNSUPPORTED_FILE_TYPE' });
		expect(filesUnder(path.join(server.dir, 'uploads'))).toEqual([]);
		expect(filesUnder(path.join(server.dir, 'temp'))).toEqual([]);
	});

	test('UPLOAD_RATE_LIMIT refuses the next upload with 429 and Retry-After', async () => {
		const server = await startServer({ UPLOAD_RATE_LIMIT: '2/hour' });
		servers.push(server);
		expect((await upload(server.url, { data: 'a' })).status).toBe(201);
		expect((await upload(server.url, { data: 'b' })).status).toBe(201);
		const third = await upload(server.url, { data: 'c' });
		expect(third.status).toBe(429);
		expect(Number(third.headers['retry-after'])).toBeGreaterThan(3000);
		expect((await upload(server.url, { data: 'd' }, {}, { from: '127.0.0.3' })).status).toBe(201);
	});

	test('URLs are built from ORIGIN when it is set', async () => {
		const server = await startServer({ ORIGIN: 'https://drop.example.org' });
		servers.push(server);
		const created = createdFrom(await upload(server.url, { data: 'a' }));
		expect(created.download_url).toBe(`https://drop.example.org/download/${created.key}`);
	});

	test('a temp folder that vanished fails the upload, not the process', async () => {
		const server = await startServer();
		servers.push(server);
		rmSync(path.join(server.dir, 'temp'), { recursive: true, force: true });
		// Headers and a field first, the file part later: the part file's open fails before
		// anything listens to the stream (this used to be an uncaught error ending the process).
		const { body, contentType } = multipart([
			{ name: 'expiry', data: '5' },
			{ name: 'file', filename: 'a.bin', data: randomBytes(1000) }
		]);
		const split = body.indexOf('\r\n--', 10) + 2;
		const req = httpRequest(`${server.url}/upload/`, {
			method: 'POST',
			headers: { 'content-type': contentType, 'content-length': String(body.length) }
		});
		const replied = replyTo(req);
		req.write(body.subarray(0, split));
		setTimeout(() => req.end(body.subarray(split)), 500);
		const reply = await replied;
		expect(reply.status).toBe(500);
		expect(json(reply)).toMatchObject({ error_code: 'INTERNAL_ERROR' });
		expect(server.process.exitCode).toBeNull();
		const health = await request(`${server.url}/health/`);
		expect(json(health)).toMatchObject({ status: 'degraded', services: { storage: 'offline' } });
	});

	test('uploads are refused with 507 before reading when free disk is under MIN_FREE_DISK_MB', async () => {
		const server = await startServer({ MIN_FREE_DISK_MB: '999999999' });
		servers.push(server);
		const reply = await upload(server.url, { data: 'a' });
		expect(reply.status).toBe(507);
		expect(json(reply)).toMatchObject({ error_code: 'INSUFFICIENT_STORAGE' });
	});
});
