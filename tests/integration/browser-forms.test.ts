/**
 * Browsers without JavaScript post plain forms. When such a post is refused outside a page
 * action (the /download endpoint, the rate limits in hooks), the browser is sent back to the
 * page with the error code, never shown raw JSON; API clients still get JSON.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { json, multipart, request } from '../helpers/http';
import { startServer } from '../helpers/processes.js';
import type { TestServer } from '../helpers/processes.js';

let server: TestServer;

beforeAll(async () => {
	server = await startServer({ UPLOAD_RATE_LIMIT: '1/hour' });
});

afterAll(async () => {
	await server?.stop();
});

const browser = (origin: string) => ({
	accept: 'text/html,application/xhtml+xml',
	origin,
	'content-type': 'application/x-www-form-urlencoded'
});

test('a refused no-JS download goes back to /r with the code, and /r says what happened', async () => {
	const reply = await request(`${server.url}/download`, {
		method: 'POST',
		from: '127.0.0.21',
		headers: browser(server.url),
		body: 'passphrase=abacus-abdomen-abide-able'
	});
	expect(reply.status).toBe(303);
	expect(reply.headers.location).toBe('/r?refused=UNKNOWN_PASSPHRASE');
	expect(reply.headers.location).not.toContain('abacus');

	const page = await request(`${server.url}${reply.headers.location}`, {
		headers: { accept: 'text/html' }
	});
	expect(page.status).toBe(200);
	expect(page.body.toString()).toContain('No drop has this passphrase.');
});

test('the same refusal is JSON for an API client', async () => {
	const reply = await request(`${server.url}/download`, {
		method: 'POST',
		from: '127.0.0.22',
		headers: { 'content-type': 'application/x-www-form-urlencoded' },
		body: 'passphrase=abacus-abdomen-abide-able'
	});
	expect(reply.status).toBe(404);
	expect(json(reply)).toMatchObject({ error_code: 'UNKNOWN_PASSPHRASE' });
});

test('a no-JS upload over the rate limit goes back to / with the wait', async () => {
	const form = () => multipart([{ name: 'file', filename: 'a.txt', data: 'hello' }]);
	const send = () => {
		const { body, contentType } = form();
		return request(`${server.url}/`, {
			method: 'POST',
			from: '127.0.0.23',
			headers: { ...browser(server.url), 'content-type': contentType },
			body
		});
	};
	expect((await send()).status).toBe(200);
	const refused = await send();
	expect(refused.status).toBe(303);
	expect(refused.headers.location).toMatch(/^\/\?refused=RATE_LIMITED&retry=\d+$/);
	const page = await request(`${server.url}${refused.headers.location}`, {
		headers: { accept: 'text/html' }
	});
	expect(page.body.toString()).toContain('Too many requests from this address');
});

test('unknown codes in the query string are ignored', async () => {
	const page = await request(`${server.url}/r?refused=%3Cscript%3E`, {
		headers: { accept: 'text/html' }
	});
	expect(page.status).toBe(200);
	expect(page.body.toString()).not.toContain('<script>');
});
