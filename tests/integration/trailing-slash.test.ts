/**
 * The README promises that every path answers with or without its trailing slash. Kit's
 * default answers the other spelling with a 308 and an empty body, which plain curl (no -L)
 * prints as nothing, and which a POST client will not follow. Each route opts out with
 * `export const trailingSlash = 'ignore'`; these tests hold every route to it, including routes
 * added later (the last test walks src/routes).
 *
 * node:http never follows redirects, so a 308 cannot hide behind the page it points to.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { request, type Reply } from '../helpers/http';
import { startServer } from '../helpers/processes.js';
import type { TestServer } from '../helpers/processes.js';

const ROUTES_DIR = path.resolve(import.meta.dirname, '../../src/routes');

let server: TestServer;
let nextClient = 10;
/** A fresh loopback source address per request, so no per-client limit colours an answer. */
const client = () => `127.0.0.${nextClient++}`;

beforeAll(async () => {
	server = await startServer();
});

afterAll(async () => {
	await server?.stop();
});

const get = (urlPath: string, accept = '*/*') =>
	request(`${server.url}${urlPath}`, { headers: { accept }, from: client() });

const contentType = (reply: Reply) => reply.headers['content-type']?.split(';')[0];

describe.each([
	['/docs', 'text/html'],
	['/openapi.json', 'application/json'],
	['/words.json', 'application/json'],
	['/r', 'text/html']
] as const)('%s', (urlPath, type) => {
	test('answers 200 with and without the trailing slash, with the same content type', async () => {
		const bare = await get(urlPath, type);
		const slashed = await get(`${urlPath}/`, type);
		for (const reply of [bare, slashed]) {
			expect(reply.headers.location).toBeUndefined();
			expect(reply.status).toBe(200);
			expect(contentType(reply)).toBe(type);
			expect(reply.body.length).toBeGreaterThan(0);
		}
		// JSON does not depend on how the path was spelled (pages carry per-request nonces).
		if (type === 'application/json') expect(slashed.body.equals(bare.body)).toBe(true);
	});
});

describe('/r/ is a working page, not just a 200', () => {
	/** Every same-origin script, style and preload the page asks for, resolved against /r/. */
	function assetsOf(html: string, pageUrl: string): string[] {
		const refs = [
			...html.matchAll(/<(?:link|script)\b[^>]*\b(?:href|src)="([^"]+)"/g),
			...html.matchAll(/import\("([^"]+)"\)/g)
		].map((match) => new URL(match[1]!, pageUrl));
		return [...new Set(refs.filter((url) => url.origin === server.url).map((url) => url.href))];
	}

	test('its scripts and styles load from /r/ as from /r', async () => {
		for (const urlPath of ['/r', '/r/']) {
			const page = await get(urlPath, 'text/html');
			expect(page.status).toBe(200);
			const assets = assetsOf(page.body.toString('utf8'), `${server.url}${urlPath}`);
			expect(assets.some((url) => url.endsWith('.js'))).toBe(true);
			expect(assets.some((url) => url.endsWith('.css'))).toBe(true);
			for (const url of assets) {
				const asset = await request(url, { from: client() });
				expect(asset.status, url).toBe(200);
			}
		}
	});

	test('its links lead to the pages, not below /r/', async () => {
		const html = (await get('/r/', 'text/html')).body.toString('utf8');
		const targets = [...html.matchAll(/<a\b[^>]*\bhref="([^"#]+)"/g)].map(
			(match) => new URL(match[1]!, `${server.url}/r/`).pathname
		);
		expect(targets).toContain('/');
		expect(targets).toContain('/r');
		expect(targets.filter((target) => target.startsWith('/r/'))).toEqual([]);
	});

	test('its check form, posted from /r/, runs the check action', async () => {
		const html = (await get('/r/', 'text/html')).body.toString('utf8');
		const action = /<form\b[^>]*\baction="([^"]+)"/.exec(html)?.[1];
		expect(action).toBe('?/check');
		const target = new URL(action!.replaceAll('&amp;', '&'), `${server.url}/r/`);
		expect(target.pathname + target.search).toBe('/r/?/check');

		// A word that is not in the list: refused by the action itself, before any key is derived.
		const reply = await request(target.href, {
			method: 'POST',
			from: client(),
			headers: {
				accept: 'text/html',
				origin: server.url,
				'content-type': 'application/x-www-form-urlencoded'
			},
			body: 'passphrase=velvet-gravy-amulet-zzzzzz'
		});
		expect(reply.headers.location).toBeUndefined();
		expect(reply.status).toBe(400);
		expect(contentType(reply)).toBe('text/html');
		const answer = reply.body.toString('utf8');
		expect(answer).toContain('Check the words');
		expect(answer).toContain('zzzzzz');
	});
});

/** Folders under src/routes that are routes, as URL paths with sample parameter values. */
function routePaths(): string[] {
	const found: string[] = [];
	const walk = (dir: string, segments: string[]) => {
		const entries = readdirSync(dir, { withFileTypes: true });
		if (entries.some((entry) => entry.isFile() && /^\+(page|server)\b/.test(entry.name))) {
			found.push(`/${segments.join('/')}`);
		}
		for (const entry of entries) {
			if (!entry.isDirectory()) continue;
			const name = entry.name;
			let segment: string | undefined;
			if (/^\(.+\)$/.test(name))
				segment = undefined; // a group adds nothing to the URL
			else if (/^\[\[.+\]\]$/.test(name))
				segment = 'x'; // optional: take the longer URL
			else if (/^\[\.\.\..+\]$/.test(name))
				segment = 'a/b'; // rest
			// A lookup key: words not in the list, refused before any key derivation or
			// failed-lookup count. A matcher that refuses it makes the route a 404 here, which
			// the test below reports.
			else if (/^\[.+\]$/.test(name)) segment = 'not-in-the-list';
			else segment = name;
			walk(path.join(dir, name), segment === undefined ? segments : [...segments, segment]);
		}
	};
	walk(ROUTES_DIR, []);
	return found;
}

test('every route in src/routes answers both spellings without a redirect', async () => {
	const paths = routePaths();
	expect(paths).toEqual(expect.arrayContaining(['/', '/docs', '/r', '/download/not-in-the-list']));
	const redirected: string[] = [];
	for (const urlPath of paths.filter((p) => p !== '/')) {
		for (const spelling of [urlPath, `${urlPath}/`]) {
			const reply = await get(spelling, 'text/html');
			// 404 would mean the route never matched, so nothing was tested about it.
			expect(reply.status, spelling).not.toBe(404);
			if (reply.status >= 300 && reply.status < 400) {
				redirected.push(`${spelling} → ${reply.status} ${reply.headers.location ?? ''}`);
			}
		}
	}
	expect(redirected).toEqual([]);
});
