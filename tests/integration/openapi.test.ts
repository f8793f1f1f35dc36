/**
 * /openapi.json against the built server: the document is well-formed OpenAPI 3.1, it names
 * every route the code has (with the same methods), and real requests to every operation,
 * successes and refusals alike, are answered with a status, headers and JSON body that the
 * document lists for that operation. An answer the document does not list fails the test.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { beforeAll, describe, expect, test } from 'vitest';
import { json, multipart, request, upload, type Reply, type RequestOptions } from '../helpers/http';
import { startServer } from '../helpers/processes.js';
import { serverForTests } from '../helpers/running';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ROUTES = path.join(ROOT, 'src/routes');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
	version: string;
};

type Node = Record<string, unknown>;
type Method = 'get' | 'post' | 'head';
type Operation = Node & { operationId: string; responses: Record<string, Node> };
type Doc = Node & {
	openapi: string;
	info: Node;
	servers: { url: string }[];
	paths: Record<string, Partial<Record<Method, Operation>> & Node>;
	components: Record<string, Record<string, Node>>;
};

const DOC_ID = 'urn:raven-zero:openapi';
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Resolve a local JSON pointer (`#/a/b~1c`) inside the document. */
function pointer(doc: Doc, ref: string): unknown {
	if (!ref.startsWith('#/')) throw new Error(`Only local references are used: ${ref}`);
	let node: unknown = doc;
	for (const raw of ref.slice(2).split('/')) {
		const part = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
		if (typeof node !== 'object' || node === null || !(part in node)) return undefined;
		node = (node as Node)[part];
	}
	return node;
}

/** Every `$ref` in the document, with where it was found. */
function refsIn(node: unknown, at = '#'): { at: string; ref: string }[] {
	if (Array.isArray(node)) return node.flatMap((item, i) => refsIn(item, `${at}/${i}`));
	if (typeof node !== 'object' || node === null) return [];
	return Object.entries(node).flatMap(([key, value]) =>
		key === '$ref' && typeof value === 'string'
			? [{ at, ref: value }]
			: refsIn(value, `${at}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`)
	);
}

/** Kit route id (`/download/[key]`) of a documented path (`/download/{key}`, `/health/`). */
function routeIdOf(docPath: string): string {
	const id = docPath.replace(/\{([^}]+)\}/g, '[$1]').replace(/\/$/, '');
	return id === '' ? '/' : id;
}

/** Route id -> HTTP methods its +server.ts exports, for every +server.ts under src/routes. */
function serverRoutes(): Map<string, Set<string>> {
	const found = new Map<string, Set<string>>();
	const walk = (dir: string) => {
		for (const entry of readdirSync(dir, { withFileTypes: true })) {
			const full = path.join(dir, entry.name);
			if (entry.isDirectory()) walk(full);
			else if (/^\+server\.(ts|js)$/.test(entry.name)) {
				const source = readFileSync(full, 'utf8');
				const methods = [
					...source.matchAll(
						/export\s+(?:const|function|async\s+function)\s+(GET|POST|PUT|PATCH|DELETE|OPTIONS|HEAD)\b/g
					)
				].map((m) => m[1]!.toLowerCase());
				const id = '/' + path.relative(ROUTES, dir).split(path.sep).join('/');
				// Groups `(name)` do not appear in URLs.
				found.set(id.replace(/\/\([^)]+\)/g, '') || '/', new Set(methods));
			}
		}
	};
	walk(ROUTES);
	return found;
}

describe('the OpenAPI document', () => {
	const { server, redis } = serverForTests({
		UPLOAD_RATE_LIMIT: '3/minute',
		MAX_FILE_SIZE: '65536',
		ALLOWED_MIME_TYPES: 'text/plain'
	});
	let doc: Doc;
	let ajv: Ajv2020;
	const compiled = new Map<string, ValidateFunction>();
	/** operationId -> statuses really answered and validated. */
	const seen = new Map<string, Set<number>>();
	let nextClient = 20;
	/** A fresh loopback source address, so that limits earned in one place stay there. */
	const client = () => `127.0.0.${nextClient++}`;

	/** Compile a schema from the document, its `#/components/...` references pointing into it. */
	function validator(schema: unknown): ValidateFunction {
		const key = JSON.stringify(schema);
		let validate = compiled.get(key);
		if (!validate) {
			const absolute = JSON.parse(
				key.replaceAll('"$ref":"#/components/schemas/', `"$ref":"${DOC_ID}#/$defs/`)
			) as Node;
			validate = ajv.compile(absolute);
			compiled.set(key, validate);
		}
		return validate;
	}

	function expectValid(schema: unknown, value: unknown, label: string) {
		const validate = validator(schema);
		const ok = validate(value);
		expect(
			ok,
			`${label}: ${ajv.errorsText(validate.errors)}\nvalue: ${JSON.stringify(value)}`
		).toBe(true);
	}

	function deref<T = Node>(node: unknown): T {
		let current = node as Node;
		while (current && typeof current.$ref === 'string')
			current = pointer(doc, current.$ref) as Node;
		return current as T;
	}

	/** Check one real answer against a response object of the document. */
	function expectMatches(response: Node, reply: Reply, label: string, isHead = false): unknown {
		expect(reply.error, `${label}: the response was broken off`).toBeUndefined();
		const headers = (response.headers ?? {}) as Record<string, Node>;
		for (const [name, ref] of Object.entries(headers)) {
			const header = deref(ref);
			const raw = reply.headers[name.toLowerCase()];
			if (header.required)
				expect(raw, `${label}: header ${name} is documented as required`).toBeDefined();
			if (raw === undefined) continue;
			const text = Array.isArray(raw) ? raw.join(', ') : raw;
			const schema = deref(header.schema);
			const value = schema.type === 'integer' && /^-?\d+$/.test(text) ? Number(text) : text;
			expectValid(header.schema, value, `${label}: header ${name}`);
		}
		const content = response.content as Record<string, Node> | undefined;
		const type = (reply.headers['content-type'] ?? '').split(';')[0]!.trim();
		if (!content || isHead) {
			expect(reply.body.length, `${label}: no body`).toBe(0);
			return undefined;
		}
		const media = content[type] ?? content['*/*'];
		expect(media, `${label}: Content-Type ${type} is not documented`).toBeDefined();
		if (type !== 'application/json') return undefined;
		const body = json(reply);
		if (media!.schema) expectValid(media!.schema, body, `${label}: body`);
		return body;
	}

	/**
	 * Check a real answer of `method path` against the document: its status must be listed
	 * for that operation, and its headers and body must match what is listed.
	 */
	function expectDocumented<T = Record<string, unknown>>(
		method: Method,
		docPath: string,
		reply: Reply
	): T {
		const operation = doc.paths[docPath]?.[method];
		expect(operation, `${method.toUpperCase()} ${docPath} is not in the document`).toBeDefined();
		const label = `${method.toUpperCase()} ${docPath} -> ${reply.status}`;
		const listed = operation!.responses[String(reply.status)] ?? operation!.responses.default;
		expect(
			listed,
			`${label} is not documented (documented: ${Object.keys(operation!.responses).join(', ')}); body: ${reply.body.toString('utf8').slice(0, 300)}`
		).toBeDefined();
		const statuses = seen.get(operation!.operationId) ?? new Set<number>();
		statuses.add(reply.status);
		seen.set(operation!.operationId, statuses);
		return expectMatches(deref(listed), reply, label, method === 'head') as T;
	}

	const get = (urlPath: string, options: RequestOptions = {}) =>
		request(`${server.url}${urlPath}`, options);
	const postJson = (urlPath: string, body: unknown, options: RequestOptions = {}) =>
		request(`${server.url}${urlPath}`, {
			...options,
			method: 'POST',
			headers: { 'content-type': 'application/json', ...options.headers },
			body: JSON.stringify(body)
		});
	const postForm = (
		urlPath: string,
		fields: Record<string, string>,
		options: RequestOptions = {}
	) =>
		request(`${server.url}${urlPath}`, {
			...options,
			method: 'POST',
			headers: { 'content-type': 'application/x-www-form-urlencoded', ...options.headers },
			body: new URLSearchParams(fields).toString()
		});
	const uploadText = (text: string, fields: Record<string, string> = {}, from = client()) =>
		upload(server.url, { data: text, filename: 'note.txt' }, fields, { from });

	beforeAll(() => {
		ajv = new Ajv2020({ allErrors: true });
		addFormats(ajv);
	});

	test('is well-formed OpenAPI 3.1, served with this server as its server', async () => {
		const reply = await get('/openapi.json');
		expect(reply.status).toBe(200);
		doc = json<Doc>(reply);
		// The document itself is not a schema (ajv's strict mode refuses its keywords); its
		// components.schemas are, and every schema reference points at them.
		const components = JSON.stringify(doc.components.schemas ?? {});
		ajv.addSchema({
			$id: DOC_ID,
			$defs: JSON.parse(components.replaceAll('"$ref":"#/components/schemas/', '"$ref":"#/$defs/'))
		});
		expectDocumented('get', '/openapi.json', reply);

		expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
		expect(doc.info).toMatchObject({ title: expect.any(String), version: pkg.version });
		expect(doc.info.description).toMatch(/security model/i);
		expect(doc.servers).toEqual([expect.objectContaining({ url: server.url })]);

		for (const { at, ref } of refsIn(doc)) {
			expect(pointer(doc, ref), `${ref} (at ${at}) does not resolve`).toBeDefined();
		}
		for (const [name, schema] of Object.entries(doc.components.schemas ?? {})) {
			expect(() => validator(schema), `components.schemas.${name} compiles`).not.toThrow();
		}

		const operationIds = new Set<string>();
		for (const [docPath, item] of Object.entries(doc.paths)) {
			expect(docPath).toMatch(/^\//);
			const operations = Object.entries(item).filter(([key]) => HTTP_METHODS.includes(key));
			expect(operations.length, `${docPath} has operations`).toBeGreaterThan(0);
			for (const [method, operation] of operations as [string, Operation][]) {
				const label = `${method.toUpperCase()} ${docPath}`;
				expect(operationIds.has(operation.operationId), `${label}: unique operationId`).toBe(false);
				operationIds.add(operation.operationId);
				const responses = Object.entries(operation.responses ?? {});
				expect(responses.length, `${label} has responses`).toBeGreaterThan(0);
				for (const [status, response] of responses) {
					expect(status).toMatch(/^([1-5]\d\d|default)$/);
					const resolved = deref(response);
					expect(resolved.description, `${label} ${status} has a description`).toEqual(
						expect.any(String)
					);
					const headers = (resolved.headers ?? {}) as Record<string, Node>;
					expect(
						headers['X-Request-ID'],
						`${label} ${status} documents X-Request-ID`
					).toBeDefined();
					for (const media of Object.values((resolved.content ?? {}) as Record<string, Node>)) {
						if (media.schema) expect(() => validator(media.schema)).not.toThrow();
					}
				}
				// Every {name} in the path is a required path parameter, and nothing else is.
				const declared = ((operation.parameters ?? []) as unknown[])
					.map((p) => deref(p))
					.filter((p) => p.in === 'path');
				const inPath = [...docPath.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
				expect(declared.map((p) => p.name).sort(), `${label}: path parameters`).toEqual(
					inPath.sort()
				);
				for (const parameter of declared) expect(parameter.required).toBe(true);
			}
		}
	});

	test('names every route that has a +server.ts, with exactly its methods', () => {
		const documented = new Map<string, Set<string>>();
		for (const [docPath, item] of Object.entries(doc.paths)) {
			const methods = Object.keys(item).filter((key) => HTTP_METHODS.includes(key));
			documented.set(routeIdOf(docPath), new Set(methods));
		}
		const routes = serverRoutes();
		expect(routes.size).toBeGreaterThanOrEqual(7);
		for (const [id, methods] of routes) {
			expect(documented.get(id), `route ${id} is missing from /openapi.json`).toBeDefined();
			expect([...documented.get(id)!].sort(), `methods of ${id}`).toEqual([...methods].sort());
		}
		for (const id of documented.keys()) {
			expect(routes.has(id), `${id} is documented but has no +server.ts`).toBe(true);
		}
	});

	test('upload, status, preview and download answer as documented, up to the burned drop', async () => {
		const created = expectDocumented<{ key: string; download_url: string }>(
			'post',
			'/upload/',
			await uploadText('documented', { expiry: '5', uses: '2' })
		);
		expect(created).toMatchObject({ expiry: 5, uses: 2, mime_type: 'text/plain' });
		const { key } = created;

		expect(expectDocumented('get', '/status/{key}', await get(`/status/${key}`))).toMatchObject({
			status: 'active',
			remaining_uses: 2
		});
		expect(
			expectDocumented('post', '/status', await postJson('/status', { passphrase: key }))
		).toMatchObject({ status: 'active' });
		expectDocumented('post', '/status', await postForm('/status', { key }));

		// HEAD consumes nothing: not the preview, not a use.
		for (const docPath of ['/download/{key}', '/preview/{key}'] as const) {
			const head = await get(docPath.replace('{key}', key), { method: 'HEAD' });
			expect(head.status).toBe(405);
			expectDocumented('head', docPath, head);
		}
		expectDocumented('get', '/preview/{key}', await get(`/preview/${key}`));
		expect(expectDocumented('get', '/preview/{key}', await get(`/preview/${key}`))).toMatchObject({
			error_code: 'PREVIEW_ALREADY_SEEN'
		});

		const first = await get(`/download/${key}`);
		expectDocumented('get', '/download/{key}', first);
		expect(first.body.toString()).toBe('documented');
		expect(first.headers['x-remaining-uses']).toBe('1');

		const last = await postForm('/download', { passphrase: key });
		expectDocumented('post', '/download', last);
		expect(last.headers['x-remaining-uses']).toBe('0');

		for (const [method, docPath, reply] of [
			['get', '/download/{key}', await get(`/download/${key}`)],
			['post', '/download', await postJson('/download', { passphrase: key })],
			['get', '/preview/{key}', await get(`/preview/${key}`)]
		] as const) {
			expect(reply.status).toBe(410);
			expect(expectDocumented(method, docPath, reply)).toMatchObject({
				error_code: 'ALREADY_DOWNLOADED'
			});
		}
		expect(expectDocumented('get', '/status/{key}', await get(`/status/${key}`))).toMatchObject({
			status: 'burned',
			is_accessible: false,
			expires_at: null
		});

		// Destroy now: a second drop, burned with uses left; then gone like the first.
		const other = json<{ key: string }>(await uploadText('to destroy', { uses: '3' }));
		const destroyed = await postForm('/destroy', { passphrase: other.key });
		expect(destroyed.status).toBe(200);
		expect(expectDocumented('post', '/destroy', destroyed)).toMatchObject({ status: 'burned' });
		const again = await postJson('/destroy', { passphrase: other.key });
		expect(again.status).toBe(410);
		expect(expectDocumented('post', '/destroy', again)).toMatchObject({
			error_code: 'ALREADY_DOWNLOADED'
		});
	});

	test('a zip of several files and a text drop: kind and contents as documented', async () => {
		const contents = [
			{ name: 'photos/beach.jpg', size: 48213 },
			{ name: 'notes.txt', size: 12 }
		];
		const archive = expectDocumented<{ key: string }>(
			'post',
			'/upload/',
			await uploadText('zip stand-in', { kind: 'archive', contents: JSON.stringify(contents) })
		);
		expect(
			expectDocumented('get', '/status/{key}', await get(`/status/${archive.key}`))
		).toMatchObject({ kind: 'archive', contents });
		const text = expectDocumented<{ key: string }>(
			'post',
			'/upload/',
			await uploadText('typed text', { kind: 'text' })
		);
		expect(
			expectDocumented('post', '/status', await postJson('/status', { passphrase: text.key }))
		).toMatchObject({ kind: 'text', contents: null });
	});

	test('upload refusals: 400 per field, 413, 415, 403 and 429', async () => {
		const cases: [Record<string, string>, string][] = [
			[{ expiry: '61' }, 'INVALID_EXPIRY'],
			[{ expiry: 'soon' }, 'INVALID_EXPIRY'],
			[{ uses: '0' }, 'INVALID_USES'],
			[{ kind: 'folder' }, 'INVALID_KIND'],
			[{ contents: '[{"name": "a.txt"}]' }, 'INVALID_CONTENTS']
		];
		for (const [fields, code] of cases) {
			const reply = await uploadText('x', fields);
			expect(reply.status).toBe(400);
			expect(expectDocumented('post', '/upload/', reply)).toMatchObject({ error_code: code });
		}
		const notMultipart = await request(`${server.url}/upload/`, {
			method: 'POST',
			from: client(),
			headers: { 'content-type': 'application/json' },
			body: '{}'
		});
		expect(expectDocumented('post', '/upload/', notMultipart)).toMatchObject({
			error_code: 'NOT_MULTIPART'
		});
		const noFile = multipart([{ name: 'expiry', data: '5' }]);
		const missing = await request(`${server.url}/upload`, {
			method: 'POST',
			from: client(),
			headers: { 'content-type': noFile.contentType },
			body: noFile.body
		});
		expect(expectDocumented('post', '/upload/', missing)).toMatchObject({
			error_code: 'MISSING_FILE'
		});

		const tooLarge = await uploadText('a'.repeat(65_537));
		expect(tooLarge.status).toBe(413);
		expect(expectDocumented('post', '/upload/', tooLarge)).toMatchObject({
			error_code: 'FILE_TOO_LARGE'
		});

		const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
		const wrongType = await upload(
			server.url,
			{ data: png, filename: 'a.png' },
			{},
			{ from: client() }
		);
		expect(wrongType.status).toBe(415);
		expectDocumented('post', '/upload/', wrongType);

		const foreign = await upload(
			server.url,
			{ data: 'x' },
			{},
			{ from: client(), headers: { origin: 'https://evil.example' } }
		);
		expect(foreign.status).toBe(403);
		expect(expectDocumented('post', '/upload/', foreign)).toMatchObject({
			error_code: 'CROSS_ORIGIN_FORBIDDEN'
		});

		const busy = client();
		for (let i = 0; i < 3; i++) {
			expect((await uploadText(`n${i}`, {}, busy)).status).toBe(201);
		}
		const limited = await uploadText('one too many', {}, busy);
		expect(limited.status).toBe(429);
		expect(expectDocumented('post', '/upload/', limited)).toMatchObject({
			error_code: 'RATE_LIMITED'
		});
	});

	test('lookup refusals: malformed passphrases, bad bodies and foreign origins', async () => {
		const who = client();
		for (const [method, docPath, reply] of [
			['get', '/download/{key}', await get('/download/orbit-velvte-gravy-amulet', { from: who })],
			['get', '/preview/{key}', await get('/preview/orbit-velvte-gravy-amulet', { from: who })],
			['get', '/status/{key}', await get('/status/two-words', { from: who })],
			[
				'post',
				'/download',
				await postJson('/download', { passphrase: 'qqq-www-eee' }, { from: who })
			],
			['post', '/status', await postForm('/status', { passphrase: '' }, { from: who })]
		] as const) {
			expect(reply.status).toBe(400);
			expect(expectDocumented(method, docPath, reply)).toMatchObject({
				error_code: 'INVALID_PASSPHRASE',
				unknown_words: expect.any(Array)
			});
		}

		for (const docPath of ['/download', '/status'] as const) {
			const noField = await postJson(docPath, { pass: 'x' }, { from: who });
			expect(noField.status).toBe(400);
			expect(expectDocumented('post', docPath, noField)).toMatchObject({
				error_code: 'BAD_REQUEST'
			});

			const wrongType = await request(`${server.url}${docPath}`, {
				method: 'POST',
				from: who,
				headers: { 'content-type': 'text/plain' },
				body: 'orbit-velvet-gravy-amulet'
			});
			expect(wrongType.status).toBe(415);
			expectDocumented('post', docPath, wrongType);

			const huge = await postForm(docPath, { passphrase: 'a'.repeat(5000) }, { from: who });
			expect(huge.status).toBe(413);
			expectDocumented('post', docPath, huge);

			const foreign = await postJson(
				docPath,
				{ passphrase: 'orbit-velvet-gravy-amulet' },
				{ from: who, headers: { origin: 'https://evil.example' } }
			);
			expect(foreign.status).toBe(403);
			expect(expectDocumented('post', docPath, foreign)).toMatchObject({
				error_code: 'CROSS_ORIGIN_FORBIDDEN'
			});
		}
	});

	test('unknown passphrases are 404 until the address is blocked: then 429 on every lookup', async () => {
		const attacker = '127.0.0.77';
		const guess = (i: number) => `abacus-abdomen-abide-${['able', 'ablaze', 'abnormal'][i % 3]}`;
		type Lookup = (i: number) => [Method, string, Promise<Reply>];
		const lookups: Lookup[] = [
			(i) => ['get', '/download/{key}', get(`/download/${guess(i)}`, { from: attacker })],
			(i) => ['get', '/preview/{key}', get(`/preview/${guess(i)}`, { from: attacker })],
			(i) => ['get', '/status/{key}', get(`/status/${guess(i)}`, { from: attacker })],
			(i) => [
				'post',
				'/download',
				postJson('/download', { passphrase: guess(i) }, { from: attacker })
			],
			(i) => ['post', '/status', postForm('/status', { passphrase: guess(i) }, { from: attacker })]
		];
		// DOWNLOAD_FAIL_LIMIT is 10: two rounds over the five lookups.
		for (let i = 0; i < 10; i++) {
			const [method, docPath, pending] = lookups[i % 5]!(i);
			const reply = await pending;
			expect(reply.status).toBe(404);
			expect(expectDocumented(method, docPath, reply)).toMatchObject({
				error_code: 'UNKNOWN_PASSPHRASE'
			});
		}
		for (const lookup of lookups) {
			const [method, docPath, pending] = lookup(0);
			const reply = await pending;
			expect(reply.status).toBe(429);
			expect(expectDocumented(method, docPath, reply)).toMatchObject({
				error_code: 'TOO_MANY_FAILED_LOOKUPS'
			});
		}
	});

	test('too many malformed passphrases are 429 RATE_LIMITED, with Retry-After', async () => {
		const who = client();
		for (let i = 0; i < 30; i++) {
			expect((await get('/status/qqq-www-eee', { from: who })).status).toBe(400);
		}
		const limited = await get('/status/qqq-www-eee', { from: who });
		expect(limited.status).toBe(429);
		expect(expectDocumented('get', '/status/{key}', limited)).toMatchObject({
			error_code: 'RATE_LIMITED'
		});
	});

	test('health: 200 healthy, then 429 within the same second', async () => {
		const monitor = client();
		const healthy = await get('/health/', { from: monitor });
		expect(healthy.status).toBe(200);
		expect(expectDocumented('get', '/health/', healthy)).toMatchObject({
			services: { redis: 'online' }
		});
		const again = await get('/health', { from: monitor });
		expect(again.status).toBe(429);
		expectDocumented('get', '/health/', again);
	});

	test('the word list answers as documented', async () => {
		const words = expectDocumented<string[]>('get', '/words.json', await get('/words.json'));
		expect(words).toHaveLength(7772);
		expect(words).not.toContain('t-shirt');
	});

	test('paths and methods the document does not list answer its NotFound and MethodNotAllowed', async () => {
		const notFound = await get('/no/such/endpoint');
		expect(notFound.status).toBe(404);
		expectMatches(deref(doc.components.responses!.NotFound), notFound, 'GET /no/such/endpoint');

		for (const [method, urlPath] of [
			['DELETE', '/upload/'],
			['GET', '/download'],
			['POST', '/health/'],
			['PUT', '/status/abacus-abdomen-abide-able']
		] as const) {
			const reply = await get(urlPath, { method, from: client() });
			expect(reply.status, `${method} ${urlPath}`).toBe(405);
			expectMatches(
				deref(doc.components.responses!.MethodNotAllowed),
				reply,
				`${method} ${urlPath}`
			);
		}
	});

	test('a server low on disk answers 507, and builds `servers` from ORIGIN', async () => {
		const lowDisk = await startServer({
			MIN_FREE_DISK_MB: '1000000000',
			ORIGIN: 'https://drop.example.org'
		});
		try {
			const described = json<Doc>(await request(`${lowDisk.url}/openapi.json`));
			expect(described.servers).toEqual([
				expect.objectContaining({ url: 'https://drop.example.org' })
			]);
			const refused = await upload(lowDisk.url, { data: 'x' });
			expect(refused.status).toBe(507);
			expect(expectDocumented('post', '/upload/', refused)).toMatchObject({
				error_code: 'INSUFFICIENT_STORAGE'
			});
			const embedded = await request(`${lowDisk.url}/health/`);
			expect(expectDocumented('get', '/health/', embedded)).toMatchObject({
				services: { redis: 'embedded' }
			});
		} finally {
			await lowDisk.stop();
		}
	});

	test('with the store down: health is 503 degraded, uploads and lookups 503', async () => {
		const created = json<{ key: string }>(await uploadText('before the outage'));
		await redis.stop();
		const health = await get('/health/', { from: client() });
		expect(health.status).toBe(503);
		expect(expectDocumented('get', '/health/', health)).toMatchObject({
			status: 'degraded',
			services: { redis: 'offline' }
		});
		for (const [method, docPath, reply] of [
			['post', '/upload/', await uploadText('during the outage')],
			['get', '/download/{key}', await get(`/download/${created.key}`)],
			['post', '/download', await postJson('/download', { passphrase: created.key })],
			['get', '/preview/{key}', await get(`/preview/${created.key}`)],
			['get', '/status/{key}', await get(`/status/${created.key}`)],
			['post', '/status', await postJson('/status', { passphrase: created.key })]
		] as const) {
			expect(reply.status, `${method} ${docPath}`).toBe(503);
			expect(expectDocumented(method, docPath, reply)).toMatchObject({
				error_code: 'STORE_UNAVAILABLE'
			});
		}
	});

	test('every operation was exercised with real requests', () => {
		const operations = Object.values(doc.paths).flatMap((item) =>
			Object.entries(item)
				.filter(([key]) => HTTP_METHODS.includes(key))
				.map(([, operation]) => (operation as Operation).operationId)
		);
		const report = Object.fromEntries(
			operations.map((id) => [id, [...(seen.get(id) ?? [])].sort()])
		);
		for (const id of operations)
			expect(report[id]?.length, `${id} was never called`).toBeGreaterThan(0);
		// A record of what this file proves, per operation.
		expect(report).toMatchObject({
			upload: expect.arrayContaining([201, 400, 403, 413, 415, 429, 503, 507]),
			downloadByPath: expect.arrayContaining([200, 400, 404, 410, 429, 503]),
			downloadByBody: expect.arrayContaining([200, 400, 403, 404, 410, 413, 415, 429, 503]),
			preview: expect.arrayContaining([200, 400, 404, 410, 429, 503]),
			statusByPath: expect.arrayContaining([200, 400, 404, 429, 503]),
			statusByBody: expect.arrayContaining([200, 400, 403, 404, 413, 415, 429, 503]),
			destroy: expect.arrayContaining([200, 410]),
			health: expect.arrayContaining([200, 429, 503]),
			downloadHead: [405],
			previewHead: [405],
			words: [200],
			openapi: [200]
		});
	});
});

describe('the /docs page', () => {
	const { server } = serverForTests({}, { store: 'memory' });

	test('lists every operation with curl examples against this server, within the CSP', async () => {
		const reply = await request(`${server.url}/docs`, { headers: { accept: 'text/html' } });
		expect(reply.status).toBe(200);
		expect(reply.headers['content-type']).toMatch(/^text\/html/);
		expect(reply.headers['content-security-policy']).toContain("script-src 'self'");
		const html = reply.body.toString('utf8');
		const doc = json<Doc>(await request(`${server.url}/openapi.json`));
		for (const [docPath, item] of Object.entries(doc.paths)) {
			const methods = Object.keys(item).filter((key) => HTTP_METHODS.includes(key));
			for (const method of methods.filter((m) => m !== 'head')) {
				expect(html).toContain(`id="${(item[method as Method] as Operation).operationId}"`);
			}
			expect(html).toContain(`${docPath}</code>`);
		}
		expect(html).toContain(`curl -F file=@secret.pdf -F expiry=10 -F uses=1 ${server.url}/upload/`);
		expect(html).toContain(`curl -OJ ${server.url}/download/`);
		// Nothing inline that the CSP would block: no style attributes, no script without nonce.
		expect(html).not.toMatch(/\sstyle="/);
		for (const script of html.match(/<script\b[^>]*>/g) ?? []) {
			expect(script).toMatch(/\snonce="|\ssrc="/);
		}
	});
});
