/**
 * Bad input, tried systematically. fast-check throws generated junk at the upload endpoint
 * (malformed and truncated multipart, missing boundaries, duplicate fields, enormous values,
 * odd file names, empty files, wrong content types) and at the passphrase routes (every
 * Unicode class, empty, 10 kB, path-like, percent-encoded junk): never a 5xx, never a broken
 * connection, never a crash, no file kept beyond the uploads that answered 201, and memory
 * bounded. Then the named attacks: path traversal, header injection through file names,
 * HTML/SVG served back, CORS preflights, other methods, and the security headers on every
 * kind of response.
 */
import http from 'node:http';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { json, multipart, replyTo, request, upload, type Reply } from '../helpers/http';
import { SECURITY_HEADERS } from '../helpers/headers';
import {
	freePort,
	processFigures,
	sampleRss,
	sleep,
	startServer,
	waitFor
} from '../helpers/processes.js';
import type { TestServer } from '../helpers/processes.js';
import { filesIn, randomWord } from './support';

const UPLOAD_RUNS = 160;
const LOOKUP_RUNS = 240;

let server: TestServer;
/** CORS_ORIGINS set, and a Redis that is not there: for CORS, 503s and the health limit. */
let corsServer: TestServer;

beforeAll(async () => {
	const deadRedis = `redis://127.0.0.1:${await freePort()}/0`;
	[server, corsServer] = await Promise.all([
		startServer({ UPLOAD_RATE_LIMIT: '100000/hour', MAX_FILE_SIZE: String(1024 * 1024) }),
		startServer({ CORS_ORIGINS: 'https://a.example', REDIS_URL: deadRedis })
	]);
});

afterAll(async () => {
	await Promise.all([server?.stop(), corsServer?.stop()]);
});

let addressCounter = 0;
/** Another loopback address for each request, so that no single address is ever blocked. */
function nextAddress(): string {
	const n = addressCounter++;
	return `127.0.${10 + (Math.floor(n / 250) % 200)}.${1 + (n % 250)}`;
}

/** One raw request; the body in one piece (Content-Length) or in two chunks (chunked). */
function send(
	url: string,
	options: {
		method: string;
		headers?: Record<string, string>;
		body?: Buffer;
		chunked?: boolean;
		from?: string;
	}
): Promise<Reply> {
	const body = options.body ?? Buffer.alloc(0);
	const chunked = options.chunked === true && body.length > 1;
	// Node frames a DELETE or OPTIONS body with neither Content-Length nor chunked unless told,
	// and the server then reads the body as a second, malformed request: always say which.
	const headers = chunked
		? { ...options.headers, 'transfer-encoding': 'chunked' }
		: options.body === undefined
			? options.headers
			: { ...options.headers, 'content-length': String(body.length) };
	const req = http.request(url, {
		method: options.method,
		headers,
		localAddress: options.from,
		agent: false
	});
	const reply = replyTo(req);
	if (chunked) {
		const half = Math.floor(body.length / 2);
		req.write(body.subarray(0, half));
		req.end(body.subarray(half));
	} else {
		req.end(body);
	}
	return reply;
}

function count(counts: Record<string, number>, key: string) {
	counts[key] = (counts[key] ?? 0) + 1;
}

function errorCode(reply: Reply): string {
	try {
		return json<{ error_code?: string }>(reply).error_code ?? '';
	} catch {
		return '';
	}
}

// ---------------------------------------------------------------------------- generators

/** Printable ASCII: what an HTTP header value may carry (Node refuses the rest before sending). */
const headerText = (maxLength: number) =>
	fc.string({
		unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
		maxLength
	});

const oddNames = fc.constantFrom(
	'../../etc/passwd',
	'..\\..\\windows\\system32\\evil.dll',
	'a\r\nX-Injected: yes',
	'invoice\u202Efdp.exe',
	'.htaccess',
	'',
	' ',
	'con.txt',
	'nul\u0000byte.txt',
	'💥'.repeat(200),
	'n'.repeat(5000)
);

const partArb = fc.record({
	name: fc.oneof(
		fc.constantFrom('file', 'file', 'expiry', 'uses', 'note', '', 'FILE', 'file[]'),
		fc.string({ unit: 'binary', maxLength: 24 }),
		fc.constant('x'.repeat(3000))
	),
	filename: fc.option(
		fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), oddNames, fc.string({ maxLength: 40 })),
		{ nil: undefined }
	),
	filenameStar: fc.option(
		fc.oneof(
			fc.constantFrom(
				"UTF-8''evil%0D%0AX-Injected%3A%20yes.txt",
				"UTF-8''%ED%A0%80lone.txt",
				"UTF-8''%C0%AF%C0%AF",
				"UTF-8''%FF%FE%00",
				"ISO-8859-1''caf%E9.txt",
				"UTF-8''..%2F..%2Fetc%2Fpasswd",
				"bogus''x",
				"UTF-8'",
				"UTF-8''%"
			),
			fc
				.uint8Array({ maxLength: 40 })
				.map(
					(bytes) =>
						`UTF-8''${[...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')}`
				)
		),
		{ nil: undefined }
	),
	contentType: fc.option(
		fc.oneof(
			fc.constantFrom(
				'text/html',
				'image/svg+xml',
				'application/x-msdownload',
				'text/plain; charset=utf-7',
				''
			),
			headerText(60)
		),
		{ nil: undefined }
	),
	data: fc.oneof(
		fc.uint8Array({ maxLength: 4096 }),
		fc.constant(new Uint8Array(0)),
		fc
			.constantFrom('1', '5', '60', '0', '-1', '999999', '1e3', ' 7 ', '\u0661')
			.map((text) => new TextEncoder().encode(text)),
		fc.constant(new TextEncoder().encode('<html><script>alert(1)</script></html>')),
		fc.integer({ min: 1, max: 300_000 }).map((n) => new Uint8Array(n).fill(0x41))
	)
});

type ValueOf<A> = A extends fc.Arbitrary<infer T> ? T : never;

type Junk = fc.Arbitrary<{
	parts: ValueOf<typeof partArb>[];
	withFile: boolean;
	contentType: string;
	mutation: { kind: string; at: number; garbage: Uint8Array };
	chunked: boolean;
}>;

const uploadJunk: Junk = fc.record({
	parts: fc.array(partArb, { maxLength: 6 }),
	withFile: fc.boolean(),
	contentType: fc.oneof(
		fc.constant('proper'),
		fc.constant('proper'),
		fc.constantFrom(
			'multipart/form-data',
			'multipart/form-data; boundary=',
			'multipart/form-data; boundary="unterminated',
			`multipart/form-data; boundary=${'b'.repeat(300)}`,
			'multipart/mixed; boundary=whatever',
			'MULTIPART/FORM-DATA; BOUNDARY=upper',
			'text/plain',
			'application/json',
			'application/x-www-form-urlencoded',
			'none'
		),
		headerText(80)
	),
	mutation: fc.record({
		kind: fc.constantFrom('none', 'none', 'truncate', 'no-closing', 'garbage', 'lf-only', 'empty'),
		at: fc.double({ min: 0, max: 1, noNaN: true }),
		garbage: fc.uint8Array({ minLength: 1, maxLength: 64 })
	}),
	chunked: fc.boolean()
});

/** Mostly well-formed uploads with odd details, so that some are stored (201) and counted. */
const fieldArb = fc.record({
	name: fc.constantFrom('expiry', 'uses', 'note'),
	filename: fc.constant(undefined),
	filenameStar: fc.constant(undefined),
	contentType: fc.constant(undefined),
	data: fc
		.constantFrom('1', '3', '5', '60', '0', 'x', '')
		.map((text) => new TextEncoder().encode(text))
});
const nearlyValid: Junk = fc.record({
	parts: fc
		.tuple(
			fc.array(fieldArb, { maxLength: 3 }),
			partArb.map((part) => ({ ...part, name: 'file', filename: part.filename ?? 'x.bin' }))
		)
		.map(([fields, file]) => [...fields, file]),
	withFile: fc.constant(false),
	contentType: fc.constant('proper'),
	mutation: fc.constant({ kind: 'none', at: 0, garbage: new Uint8Array(1) }),
	chunked: fc.boolean()
});

function buildUpload(junk: ValueOf<typeof uploadJunk>) {
	const boundary = `----fuzz${Math.random().toString(16).slice(2)}`;
	const parts = junk.withFile
		? [{ name: 'file', filename: 'real.bin', data: new Uint8Array([1, 2, 3]) }, ...junk.parts]
		: junk.parts;
	const chunks: Buffer[] = [];
	for (const part of parts) {
		let disposition = `form-data; name="${part.name}"`;
		if (part.filename !== undefined) disposition += `; filename="${part.filename}"`;
		if ('filenameStar' in part && part.filenameStar !== undefined)
			disposition += `; filename*=${part.filenameStar}`;
		let head = `--${boundary}\r\nContent-Disposition: ${disposition}\r\n`;
		if ('contentType' in part && part.contentType !== undefined)
			head += `Content-Type: ${part.contentType}\r\n`;
		chunks.push(Buffer.from(`${head}\r\n`), Buffer.from(part.data), Buffer.from('\r\n'));
	}
	chunks.push(Buffer.from(`--${boundary}--\r\n`));
	let body = Buffer.concat(chunks);
	const { kind, at, garbage } = junk.mutation;
	const cut = Math.floor(body.length * at);
	if (kind === 'truncate') body = body.subarray(0, cut);
	if (kind === 'no-closing') body = body.subarray(0, body.length - boundary.length - 6);
	if (kind === 'garbage')
		body = Buffer.concat([body.subarray(0, cut), garbage, body.subarray(cut)]);
	if (kind === 'lf-only')
		body = Buffer.from(body.toString('latin1').replaceAll('\r\n', '\n'), 'latin1');
	if (kind === 'empty') body = Buffer.alloc(0);
	const headers: Record<string, string> = {};
	if (junk.contentType === 'proper')
		headers['content-type'] = `multipart/form-data; boundary=${boundary}`;
	else if (junk.contentType !== 'none') headers['content-type'] = junk.contentType;
	return { body, headers };
}

/** UTF-8 bytes, percent-encoded except for unreserved characters: any string as a path segment. */
function pathSegment(text: string): string {
	return [...Buffer.from(text, 'utf8')]
		.map((byte) =>
			/[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte))
				? String.fromCharCode(byte)
				: `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
		)
		.join('');
}

const words = Array.from({ length: 40 }, () => randomWord());
const passphraseJunk = fc.oneof(
	fc.string({ unit: 'grapheme', maxLength: 60 }).map((text) => ({ text, raw: false })),
	fc.string({ unit: 'grapheme-composite', maxLength: 30 }).map((text) => ({ text, raw: false })),
	fc.string({ unit: 'binary', maxLength: 60 }).map((text) => ({ text, raw: false })),
	fc
		.constantFrom('', ' ', '-', 'a'.repeat(10_000), 'é'.repeat(3000), '🦀'.repeat(2500))
		.map((text) => ({ text, raw: false })),
	fc
		.array(fc.constantFrom(...words), { maxLength: 12 })
		.chain((list) =>
			fc
				.constantFrom('-', ' ', '.', '\n', '--', '_', '1', '\u3000')
				.map((separator) => ({ text: list.join(separator), raw: false }))
		),
	// Raw path text, sent as it is: traversal, bad escapes, overlong encodings.
	fc
		.constantFrom(
			'..%2F..%2Fetc%2Fpasswd',
			'..%2f..%2f..%2f..%2fetc%2fshadow',
			'%2e%2e%2f%2e%2e%2fetc%2fpasswd',
			'%00',
			'%ZZ',
			'%',
			'%E0%A4%A',
			'%C0%AF',
			'%ED%A0%80',
			'....%2F%2F....%2F%2F',
			'%5C..%5C..%5Cwindows',
			'orbit-velvet-gravy-amulet%2F..%2F..%2Fx',
			'%3Fa%3Db',
			'a%0D%0AX-Injected:%20yes'
		)
		.map((text) => ({ text, raw: true })),
	fc.uint8Array({ maxLength: 48 }).map((bytes) => ({
		text: [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''),
		raw: true
	}))
);

const lookupRoute = fc.constantFrom(
	'GET /download/',
	'GET /status/',
	'GET /preview/',
	'POST /status json',
	'POST /download json',
	'POST /status form',
	'POST /download form',
	'POST /status text',
	'POST /download broken-json'
);

// ---------------------------------------------------------------------------------- fuzz

describe('generated junk', () => {
	const figures: Record<string, unknown> = {};

	/** Figures of one fuzz run: the process before, its RSS while it runs, each outcome's count. */
	function fuzzRun(name: string) {
		const pid = server.process.pid!;
		const baseline = processFigures(pid);
		const rss = sampleRss(pid);
		const outcomes: Record<string, number> = {};
		return {
			outcomes,
			tried: 0,
			/** Still running, still answering, nothing unhandled, memory bounded; figures kept. */
			async finish() {
				const peak = rss.stop();
				expect(server.process.exitCode).toBeNull();
				// From an address of its own: the test before may have checked health a moment ago.
				const health = await request(`${server.url}/health/`, { from: nextAddress() });
				expect(health.status).toBe(200);
				expect(server.lines.filter((line) => line.event === 'unhandled_error')).toEqual([]);
				// Bounded: scrypt's 16 MiB per derivation on each of libuv's threads, and the
				// allocator keeping it, make the first requests grow RSS; it then levels off.
				expect(peak).toBeLessThan(400);
				figures[name] = {
					requests: this.tried,
					outcomes,
					rss_baseline_mib: baseline.rssMiB,
					rss_peak_mib: peak
				};
			}
		};
	}

	afterAll(() => {
		console.log('fuzzing:', JSON.stringify(figures));
	});

	test(
		`${UPLOAD_RUNS} generated uploads: never a 5xx or a broken connection, nothing kept but the 201s`,
		{ timeout: 180_000 },
		async () => {
			const run = fuzzRun('uploads');
			let created = 0;
			await fc.assert(
				fc.asyncProperty(fc.oneof(uploadJunk, nearlyValid), async (junk) => {
					run.tried++;
					const { body, headers } = buildUpload(junk);
					const reply = await send(`${server.url}/upload/`, {
						method: 'POST',
						headers,
						body,
						chunked: junk.chunked,
						from: nextAddress()
					});
					count(
						run.outcomes,
						`${reply.status}${reply.status ? ` ${errorCode(reply)}` : ` ${reply.error?.message}`}`.trim()
					);
					if (reply.status === 201) created++;
					expect(
						reply.status,
						`answer to ${JSON.stringify(headers)} + ${body.length} bytes`
					).toBeGreaterThanOrEqual(200);
					expect(reply.status).toBeLessThan(500);
				}),
				{ numRuns: UPLOAD_RUNS }
			);
			await waitFor(() => filesIn(path.join(server.dir, 'temp')).length === 0, 3000, 'temp empty');
			expect(filesIn(path.join(server.dir, 'uploads'))).toHaveLength(created);
			await run.finish();
		}
	);

	test(
		`${LOOKUP_RUNS} generated passphrases on every lookup route: never a 5xx, never a crash`,
		{ timeout: 180_000 },
		async () => {
			const run = fuzzRun('lookups');
			await fc.assert(
				fc.asyncProperty(passphraseJunk, lookupRoute, async ({ text, raw }, route) => {
					run.tried++;
					const [method, routePath, encoding] = route.split(' ') as [string, string, string?];
					let reply: Reply;
					const from = nextAddress();
					if (method === 'GET') {
						const segment = raw ? text : pathSegment(text);
						reply = await send(`${server.url}${routePath}${segment}`, { method, from });
					} else {
						const body =
							encoding === 'json'
								? JSON.stringify({ passphrase: text })
								: encoding === 'form'
									? new URLSearchParams({ passphrase: text }).toString()
									: encoding === 'text'
										? text
										: `{"passphrase": ${text.slice(0, 200)}`;
						const type = {
							json: 'application/json',
							'broken-json': 'application/json',
							form: 'application/x-www-form-urlencoded',
							text: 'text/plain'
						}[encoding ?? 'json']!;
						reply = await send(`${server.url}${routePath}`, {
							method,
							headers: { 'content-type': type },
							body: Buffer.from(body, 'utf8'),
							from
						});
					}
					count(
						run.outcomes,
						`${reply.status}${reply.status ? ` ${errorCode(reply)}` : ` ${reply.error?.message}`}`.trim()
					);
					expect(
						reply.status,
						`${route} ${JSON.stringify(text.slice(0, 80))}`
					).toBeGreaterThanOrEqual(200);
					expect(reply.status).toBeLessThan(500);
					expect(reply.status).not.toBe(200);
				}),
				{ numRuns: LOOKUP_RUNS }
			);
			await run.finish();
		}
	);
});

// ------------------------------------------------------------------------ named attacks

test('path traversal in the key, the static files and the path never reaches a file', async () => {
	for (const target of [
		'/download/..%2F..%2Fetc%2Fpasswd',
		'/download/..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd',
		'/status/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
		'/preview/..%5C..%5Cwindows%5Cwin.ini',
		'/download/../../etc/passwd',
		'/..%2f..%2f..%2fetc%2fpasswd',
		'/_app/..%2f..%2f..%2f..%2fetc%2fpasswd',
		'/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
		'/favicon.svg/..%2f..%2fpackage.json'
	]) {
		const reply = await send(`${server.url}${target}`, { method: 'GET', from: nextAddress() });
		expect([400, 404], target).toContain(reply.status);
		expect(reply.body.toString()).not.toMatch(/root:|"devDependencies"/);
	}
});

test('CR/LF in a file name never becomes a header of the download', async () => {
	const { body, contentType } = multipart([
		{
			name: 'file',
			filenameStar: "UTF-8''evil%0D%0AX-Injected%3A%20yes%0D%0A%0D%0Ascript.txt",
			data: 'payload'
		}
	]);
	const created = await send(`${server.url}/upload/`, {
		method: 'POST',
		headers: { 'content-type': contentType },
		body,
		from: nextAddress()
	});
	expect(created.status).toBe(201);
	const { key, filename } = json<{ key: string; filename: string }>(created);
	expect(filename).not.toMatch(/[\r\n]/);
	const download = await request(`${server.url}/download/${key}`);
	expect(download.status).toBe(200);
	expect(download.headers['x-injected']).toBeUndefined();
	const disposition = download.headers['content-disposition'] ?? '';
	expect(disposition).toMatch(
		/^attachment; filename="[\x20-\x7e]*"; filename\*=UTF-8''[\x21-\x7e]*$/
	);
	expect(download.body.toString()).toBe('payload');
});

test.each([
	[
		'page.html',
		'<!doctype html><html><body><script>alert(document.cookie)</script></body></html>',
		'text/html'
	],
	[
		'image.svg',
		'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>',
		'image/svg+xml'
	]
] as const)(
	'an uploaded %s is served back as an inert attachment',
	async (filename, content, claimed) => {
		const created = await upload(
			server.url,
			{ data: content, filename, contentType: claimed },
			{},
			{ from: nextAddress() }
		);
		expect(created.status).toBe(201);
		const { key, mime_type } = json<{ key: string; mime_type: string }>(created);
		expect(mime_type).not.toMatch(/html|svg/);
		const download = await request(`${server.url}/download/${key}`);
		expect(download.status).toBe(200);
		expect(download.body.toString()).toBe(content);
		const type = String(download.headers['content-type']);
		expect(type).not.toMatch(/text\/html|image\/svg\+xml/);
		expect(download.headers['content-disposition']).toMatch(/^attachment;/);
		expect(download.headers['x-content-type-options']).toBe('nosniff');
		expect(download.headers['content-security-policy']).toMatch(/sandbox/);
		expect(download.headers['content-security-policy']).toMatch(/default-src 'none'/);
	}
);

test('CORS: no preflight is granted by default; with CORS_ORIGINS only that origin', async () => {
	const preflight = (url: string, origin: string, pathname = '/upload/') =>
		send(`${url}${pathname}`, {
			method: 'OPTIONS',
			headers: {
				origin,
				'access-control-request-method': 'POST',
				'access-control-request-headers': 'content-type'
			}
		});
	for (const pathname of ['/upload/', '/status', '/download/a-b-c-d']) {
		const denied = await preflight(server.url, 'https://evil.example', pathname);
		expect(denied.status).toBeLessThan(500);
		expect(denied.headers['access-control-allow-origin']).toBeUndefined();
		expect(denied.headers['access-control-allow-methods']).toBeUndefined();
	}
	const plain = await send(`${server.url}/upload/`, {
		method: 'OPTIONS',
		headers: { origin: 'https://a.example' }
	});
	expect(plain.status).toBeLessThan(500);
	expect(plain.headers['access-control-allow-origin']).toBeUndefined();

	const allowed = await preflight(corsServer.url, 'https://a.example');
	expect(allowed.status).toBe(204);
	expect(allowed.headers['access-control-allow-origin']).toBe('https://a.example');
	expect(allowed.headers['access-control-allow-methods']).toMatch(/POST/);
	const other = await preflight(corsServer.url, 'https://b.example');
	expect(other.headers['access-control-allow-origin']).toBeUndefined();
	const lookalike = await preflight(corsServer.url, 'https://a.example.evil.example');
	expect(lookalike.headers['access-control-allow-origin']).toBeUndefined();
	const page = await send(`${corsServer.url}/robots.txt`, {
		method: 'GET',
		headers: { origin: 'https://b.example' }
	});
	expect(page.headers['access-control-allow-origin']).toBeUndefined();
});

test('methods other than GET and POST are refused, never a 5xx', async () => {
	const outcomes: Record<string, number> = {};
	for (const target of [
		'/',
		'/upload/',
		'/upload',
		'/download/a-b-c-d',
		'/download',
		'/status/a-b-c-d',
		'/status',
		'/preview/a-b-c-d',
		'/health/',
		'/r',
		'/favicon.svg',
		'/no/such/thing'
	]) {
		for (const method of ['PUT', 'DELETE', 'PATCH', 'TRACE', 'PROPFIND']) {
			// A TRACE may not carry a body (Node's parser answers 400 to one).
			const withBody = ['PUT', 'DELETE', 'PATCH'].includes(method);
			const reply = await send(`${server.url}${target}`, {
				method,
				headers: withBody ? { 'content-type': 'application/json' } : {},
				body: withBody ? Buffer.from('{}') : undefined,
				from: nextAddress()
			});
			count(outcomes, String(reply.status));
			// The Fetch standard forbids TRACE, so adapter-node cannot build a Request: 400.
			const refusals = method === 'TRACE' ? [400, 405] : [404, 405];
			expect(refusals, `${method} ${target}`).toContain(reply.status);
			if (reply.status === 405) expect(reply.headers.allow, `${method} ${target}`).toBeDefined();
		}
	}
	console.log('other methods:', JSON.stringify(outcomes));
});

describe('the security headers are on every kind of response', () => {
	const cases: [string, () => Promise<Reply>, number][] = [
		['a 200 page', () => request(`${server.url}/`, { headers: { accept: 'text/html' } }), 200],
		['a 201 upload', () => upload(server.url, { data: 'x' }, {}, { from: nextAddress() }), 201],
		[
			'a 4xx JSON error',
			() => request(`${server.url}/status/${words.slice(0, 4).join('-')}`, { from: nextAddress() }),
			404
		],
		['a 404 JSON for an unknown path', () => request(`${server.url}/no/such/thing`), 404],
		[
			'a 429',
			async () => {
				await sleep(1100);
				await request(`${corsServer.url}/health/`);
				return request(`${corsServer.url}/health/`);
			},
			429
		],
		['a 503 upload', () => upload(corsServer.url, { data: 'x' }, {}, { from: nextAddress() }), 503],
		[
			'a 503 health',
			async () => {
				await sleep(1100);
				return request(`${corsServer.url}/health/`);
			},
			503
		],
		['a static asset', () => request(`${server.url}/favicon.svg`), 200],
		[
			'a download',
			async () => {
				const created = await upload(server.url, { data: 'headers' }, {}, { from: nextAddress() });
				return request(`${server.url}/download/${json<{ key: string }>(created).key}`);
			},
			200
		]
	];
	test.each(cases)('%s', async (_, make, status) => {
		const reply = await make();
		expect(reply.status).toBe(status);
		expect(reply.headers).toMatchObject(SECURITY_HEADERS);
		expect(reply.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
	});
});
