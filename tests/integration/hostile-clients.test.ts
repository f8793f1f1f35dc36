/**
 * Findings of the hostile audit (issue #12) that one request shows, each against the built
 * server: what a hostile web page can make its visitors' browsers do, bodies that try the
 * parser, and what /health/ says about the process.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { accessKeyFromPassphrase, encodeAccessKey } from '../../src/lib/server/crypto/access-key';
import { json, request, upload } from '../helpers/http';
import { sleep, startServer } from '../helpers/processes.js';
import type { TestServer } from '../helpers/processes.js';

let server: TestServer;
let firstRequestAt: number;

beforeAll(async () => {
	server = await startServer({ DOWNLOAD_FAIL_LIMIT: '3' });
	// The process has been up a while before anyone asks for its health.
	await sleep(1500);
	firstRequestAt = Date.now();
});

afterAll(async () => {
	await server?.stop();
});

const guess = 'abacus-abdomen-abide-able';

describe('CORS_ORIGINS: a listed site may call the lookups from its pages', () => {
	let corsServer: TestServer;
	let starServer: TestServer;
	beforeAll(async () => {
		corsServer = await startServer({ CORS_ORIGINS: 'https://app.example' });
		starServer = await startServer({ CORS_ORIGINS: '*' });
	});
	afterAll(async () => {
		await corsServer?.stop();
		await starServer?.stop();
	});

	test('with CORS_ORIGINS=*, a cross-site fetch of a lookup is still refused', async () => {
		const reply = await request(`${starServer.url}/status/${guess}`, {
			from: '127.0.0.62',
			headers: {
				origin: 'https://evil.example',
				'sec-fetch-site': 'cross-site',
				'sec-fetch-mode': 'cors',
				'sec-fetch-dest': 'empty'
			}
		});
		expect(reply.status).toBe(403);
	});

	test.each([
		['https://app.example', 404],
		['https://evil.example', 403]
	])('a cross-site fetch of /status from %s answers %d', async (origin, status) => {
		const reply = await request(`${corsServer.url}/status/${guess}`, {
			from: '127.0.0.61',
			headers: {
				origin,
				'sec-fetch-site': 'cross-site',
				'sec-fetch-mode': 'cors',
				'sec-fetch-dest': 'empty'
			}
		});
		expect(reply.status).toBe(status);
		expect(reply.headers['access-control-allow-origin']).toBe(status === 404 ? origin : undefined);
	});
});

describe('a hostile page embedding lookups', () => {
	test('cross-site subresource lookups are refused with 403 before they count a failure', async () => {
		for (let i = 0; i < 5; i++) {
			const reply = await request(`${server.url}/status/${guess}`, {
				from: '127.0.0.51',
				headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' }
			});
			expect(reply.status).toBe(403);
			expect(json(reply)).toMatchObject({ error_code: 'CROSS_ORIGIN_FORBIDDEN' });
		}
		// None of them counted: this client still has all its guesses (3 before the block).
		const own = await request(`${server.url}/status/${guess}`, { from: '127.0.0.51' });
		expect(own.status).toBe(404);
	});

	test.each(['iframe', 'frame', 'object', 'embed'])(
		'a cross-site navigation into an %s is refused with 403 before it counts a failure',
		async (dest) => {
			const from = `127.0.0.${{ iframe: 53, frame: 54, object: 55, embed: 56 }[dest]}`;
			const created = await upload(server.url, { data: 'mine' }, {}, { from });
			const { key } = json<{ key: string }>(created);
			// Twelve hidden frames on a hostile page, four times this server's limit of 3.
			for (let i = 0; i < 12; i++) {
				const reply = await request(`${server.url}/download/${guess}-${i}`, {
					from,
					headers: {
						'sec-fetch-site': 'cross-site',
						'sec-fetch-mode': 'navigate',
						'sec-fetch-dest': dest
					}
				});
				expect(reply.status).toBe(403);
				expect(json(reply)).toMatchObject({ error_code: 'CROSS_ORIGIN_FORBIDDEN' });
			}
			// None of them counted: the visitor still checks a real drop.
			expect((await request(`${server.url}/status/${key}`, { from })).status).toBe(200);
		}
	);

	test('a cross-site top-level navigation to a lookup is refused too; typed or same-site, it works', async () => {
		// A link on another site, or a window another site opened and keeps navigating.
		for (const [path, from] of [
			[`/download/${guess}`, '127.0.0.57'],
			[`/status/${guess}`, '127.0.0.57'],
			[`/preview/${guess}`, '127.0.0.57'],
			[`/download/${guess}`, '127.0.0.57']
		]) {
			const reply = await request(`${server.url}${path}`, {
				from,
				headers: {
					'sec-fetch-site': 'cross-site',
					'sec-fetch-mode': 'navigate',
					'sec-fetch-dest': 'document',
					'sec-fetch-user': '?1'
				}
			});
			expect(reply.status).toBe(403);
			expect(json(reply)).toMatchObject({ error_code: 'CROSS_ORIGIN_FORBIDDEN' });
		}
		// The address bar, a bookmark, another application (none), or our own pages: looked up.
		for (const site of ['none', 'same-origin', 'same-site']) {
			const reply = await request(`${server.url}/download/${guess}`, {
				from: '127.0.0.52',
				headers: {
					'sec-fetch-site': site,
					'sec-fetch-mode': 'navigate',
					'sec-fetch-dest': 'document'
				}
			});
			expect(reply.status).toBe(404);
			expect(json(reply)).toMatchObject({ error_code: 'UNKNOWN_PASSPHRASE' });
		}
	});

	test('a share link followed from another site opens the retrieval page; a frame of it does not', async () => {
		const navigate = { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' };
		const page = await request(`${server.url}/r`, {
			from: '127.0.0.58',
			headers: { ...navigate, 'sec-fetch-dest': 'document', accept: 'text/html' }
		});
		expect(page.status).toBe(200);
		const framed = await request(`${server.url}/r`, {
			from: '127.0.0.58',
			headers: { ...navigate, 'sec-fetch-dest': 'iframe', accept: 'text/html' }
		});
		expect(framed.status).toBe(403);
	});
});

describe('lookup bodies', () => {
	test('a chunked body over 4 KiB gets its 413 answer', async () => {
		const reply = await request(`${server.url}/status`, {
			method: 'POST',
			from: '127.0.0.53',
			headers: {
				'content-type': 'application/x-www-form-urlencoded',
				'transfer-encoding': 'chunked'
			},
			body: `passphrase=${'a'.repeat(5000)}`
		});
		expect(reply.status).toBe(413);
		expect(json(reply)).toMatchObject({ error_code: 'BODY_TOO_LARGE' });
	});
});

describe('/health/', () => {
	test('started_at is when the process started, not the first health check', async () => {
		const reply = await request(`${server.url}/health/`);
		expect(reply.status).toBe(200);
		const { started_at, uptime_seconds } = json<{ started_at: string; uptime_seconds: number }>(
			reply
		);
		expect(Date.parse(started_at)).toBeLessThan(firstRequestAt - 1000);
		expect(uptime_seconds).toBeGreaterThanOrEqual(1);
	});
});

describe('client addresses from ADDRESS_HEADER, parsed strictly', () => {
	let proxied: TestServer;
	beforeAll(async () => {
		proxied = await startServer({
			ADDRESS_HEADER: 'x-forwarded-for',
			XFF_DEPTH: '1',
			DOWNLOAD_FAIL_LIMIT: '3'
		});
	});
	afterAll(async () => {
		await proxied?.stop();
	});

	const guessAs = (address: string | undefined) =>
		request(`${proxied.url}/status/${guess}`, {
			headers: address === undefined ? {} : { 'x-forwarded-for': address }
		});

	test('other spellings of a blocked address are the same client', async () => {
		for (let i = 0; i < 3; i++) expect((await guessAs('10.2.0.1')).status).toBe(404);
		for (const spelling of ['10.2.0.1:5555', '[::ffff:10.2.0.1]', '::ffff:10.2.0.1']) {
			const reply = await guessAs(spelling);
			expect(reply.status, spelling).toBe(429);
			expect(json(reply)).toMatchObject({ error_code: 'TOO_MANY_FAILED_LOOKUPS' });
		}
	});

	test('what is not an address, or no header at all, is 400 and guesses nothing', async () => {
		for (const spelling of ['010.2.0.1', '167903233', 'unknown', undefined]) {
			const reply = await guessAs(spelling);
			expect(reply.status, String(spelling)).toBe(400);
			expect(json(reply)).toMatchObject({ error_code: 'INVALID_CLIENT_ADDRESS' });
		}
	});

	test('an IPv6 client is counted by its /56 (IPV6_PREFIX), brackets and ports removed', async () => {
		for (let i = 1; i <= 3; i++) {
			expect((await guessAs(`[2001:db8:9:${i}::${i}]:443`)).status).toBe(404);
		}
		expect((await guessAs('2001:db8:9:ff::1')).status).toBe(429);
		expect((await guessAs('2001:db8:9:100::1')).status).toBe(404);
	});

	test('start-up warns that ADDRESS_HEADER is trusted on every interface only when it is', () => {
		// This server listens on 127.0.0.1 (tests/helpers/server.ts): no warning.
		expect(proxied.lines.some((line) => line.event === 'address_header_on_all_interfaces')).toBe(
			false
		);
		expect(proxied.lines.some((line) => line.event === 'origin_unset')).toBe(true);
	});
});

describe('Host, with ORIGIN set', () => {
	let named: TestServer;
	beforeAll(async () => {
		named = await startServer({ ORIGIN: 'https://drop.example.test' });
	});
	afterAll(async () => {
		await named?.stop();
	});

	test('another Host is 421; the public host and loopback hosts are answered', async () => {
		const as = (host: string) =>
			request(`${named.url}/status/${guess}`, { headers: { host }, from: '127.0.0.61' });
		const forged = await as('evil.example');
		expect(forged.status).toBe(421);
		expect(json(forged)).toMatchObject({ error_code: 'MISDIRECTED_REQUEST' });
		expect((await as('drop.example.test')).status).toBe(404);
		expect((await as(new URL(named.url).host)).status).toBe(404);
		expect((await as('localhost:3000')).status).toBe(404);
	});
});

describe('the lookup rate and the scrypt queue', () => {
	let busy: TestServer;
	beforeAll(async () => {
		busy = await startServer({ LOOKUP_RATE_LIMIT: '5/minute', KDF_QUEUE_LIMIT: '1' });
	});
	afterAll(async () => {
		await busy?.stop();
	});

	test('every lookup counts toward LOOKUP_RATE_LIMIT, found or not', async () => {
		const created = await upload(busy.url, { data: 'mine' }, {}, { from: '127.0.0.71' });
		const { key } = json<{ key: string }>(created);
		const codes: number[] = [];
		for (let i = 0; i < 6; i++) {
			codes.push((await request(`${busy.url}/status/${key}`, { from: '127.0.0.71' })).status);
		}
		expect(codes).toEqual([200, 200, 200, 200, 200, 429]);
	});

	test('past KDF_QUEUE_LIMIT a passphrase request is 503 SERVER_BUSY at once; an access key is never shed', async () => {
		const created = await upload(busy.url, { data: 'mine' }, {}, { from: '127.0.0.72' });
		const { key } = json<{ key: string }>(created);
		const accessKey = encodeAccessKey(await accessKeyFromPassphrase(key));
		// 40 clients at once, one passphrase lookup each: two derive, one waits, the rest are shed.
		const flood = Array.from({ length: 40 }, (_, i) =>
			request(`${busy.url}/status/${key}`, { from: `127.0.1.${i + 1}` })
		);
		const byKey = request(`${busy.url}/status`, {
			method: 'POST',
			from: '127.0.0.73',
			headers: { 'x-access-key': accessKey }
		});
		const replies = await Promise.all(flood);
		const shed = replies.filter((reply) => reply.status === 503);
		expect(shed.length).toBeGreaterThan(10);
		for (const reply of shed) {
			expect(json(reply)).toMatchObject({ error_code: 'SERVER_BUSY' });
			expect(Number(reply.headers['retry-after'])).toBeGreaterThanOrEqual(1);
		}
		expect(replies.every((reply) => reply.status === 200 || reply.status === 503)).toBe(true);
		expect((await byKey).status).toBe(200);
	});
});
