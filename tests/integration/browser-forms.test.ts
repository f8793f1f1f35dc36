/**
 * Browsers without JavaScript post plain forms. When such a post is refused outside a page
 * action (the /download endpoint, the rate limits in hooks), the browser is sent back to the
 * page with the error code, never shown raw JSON; API clients still get JSON.
 */
import { parse } from 'devalue';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { json, multipart, request } from '../helpers/http';
import { startServer } from '../helpers/processes.js';
import type { TestServer } from '../helpers/processes.js';

let server: TestServer;
const METRICS_TOKEN = 'browser-forms-metrics-token-0123456789';

/** How many scrypts the server has run (its metrics, on the main port with the token). */
async function scryptRuns(): Promise<number> {
	const reply = await request(`${server.url}/metrics`, {
		headers: { authorization: `Bearer ${METRICS_TOKEN}` }
	});
	const line = reply.body
		.toString()
		.split('\n')
		.find((text) => text.startsWith('raven_zero_kdf_run_seconds_count '));
	return Number(line?.split(' ')[1]);
}

beforeAll(async () => {
	server = await startServer({
		UPLOAD_RATE_LIMIT: '1/hour',
		DOWNLOAD_FAIL_LIMIT: '3',
		METRICS_TOKEN: METRICS_TOKEN
	});
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
	// The title says what happened; the sentence under it says what to do, once.
	expect(page.body.toString()).toContain('No drop has this passphrase</p>');
	expect(page.body.toString()).toContain('Check each word for typos');
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

/** What `use:enhance` (and the send page's XHR) sends: it asks for the action result. */
const enhanced = (origin: string, contentType: string) => ({
	accept: 'application/json',
	origin,
	'x-sveltekit-action': 'true',
	'content-type': contentType
});

/** An action result as Kit's client reads it (the data devalue-encoded, as Kit sends it). */
function actionResult(body: Buffer) {
	const result = JSON.parse(body.toString()) as { type: string; status: number; data: string };
	return { ...result, data: parse(result.data) as Record<string, unknown> };
}

test('an enhanced Check from a blocked address gets an action failure with the minutes', async () => {
	const check = (accessKey: string) =>
		request(`${server.url}/r?/check`, {
			method: 'POST',
			from: '127.0.0.24',
			headers: enhanced(server.url, 'application/x-www-form-urlencoded'),
			body: `access_key=${accessKey}`
		});
	// DOWNLOAD_FAIL_LIMIT unknown keys (each a well-formed 32-byte key no drop has).
	for (let i = 0; i < 3; i++) {
		const unknown = actionResult((await check(`${'A'.repeat(42)}${'AEI'[i]}`)).body);
		expect(unknown).toMatchObject({ type: 'failure', status: 404 });
	}
	const blocked = await check('Q'.repeat(43));
	// Kit's client reads only the body of an enhanced post: the wait must be in it.
	expect(blocked.status).toBe(200);
	const result = actionResult(blocked.body);
	expect(result).toMatchObject({
		type: 'failure',
		status: 429,
		data: { passphrase: '', info: null, failure: { code: 'TOO_MANY_FAILED_LOOKUPS', status: 429 } }
	});
	const { retryAfter } = result.data.failure as { retryAfter: number };
	expect(retryAfter).toBeGreaterThan(60);
	expect(Number(blocked.headers['retry-after'])).toBe(retryAfter);
});

test('an enhanced upload over the rate limit gets an action failure with the wait', async () => {
	const send = () => {
		const { body, contentType } = multipart([{ name: 'file', filename: 'a.txt', data: 'hi' }]);
		return request(`${server.url}/`, {
			method: 'POST',
			from: '127.0.0.25',
			headers: enhanced(server.url, contentType),
			body
		});
	};
	expect(actionResult((await send()).body)).toMatchObject({ type: 'success' });
	const refused = await send();
	expect(refused.status).toBe(200);
	expect(actionResult(refused.body)).toMatchObject({
		type: 'failure',
		status: 429,
		data: { sent: null, failure: { code: 'RATE_LIMITED', retryAfter: expect.any(Number) } }
	});
});

test('unknown codes in the query string are ignored', async () => {
	const page = await request(`${server.url}/r?refused=%3Cscript%3E`, {
		headers: { accept: 'text/html' }
	});
	expect(page.status).toBe(200);
	expect(page.body.toString()).not.toContain('<script>');
});

test('a no-JS download whose page did not warn of the last use is sent back to Check first', async () => {
	const { body, contentType } = multipart([
		{ name: 'uses', data: '2' },
		{ name: 'file', filename: 'twice.txt', data: 'two downloads' }
	]);
	const created = await request(`${server.url}/upload/`, {
		method: 'POST',
		from: '127.0.0.26',
		headers: { 'content-type': contentType },
		body
	});
	expect(created.status).toBe(201);
	const { key } = json(created) as { key: string };
	// The form as the page renders it after a check: the passphrase and the count it showed.
	const download = (usesShown: number, headers = browser(server.url)) =>
		request(`${server.url}/download`, {
			method: 'POST',
			from: '127.0.0.26',
			headers,
			body: `passphrase=${key}&uses_shown=${usesShown}`
		});

	expect((await download(2)).body.toString()).toBe('two downloads');
	// The page still says 2; the next download is the last: back to Check, the body kept (307).
	const stale = await download(2);
	expect(stale.status).toBe(307);
	expect(stale.headers.location).toBe('/r?/check');
	expect(stale.headers.location).not.toContain(key.split('-')[0]);
	// What the browser does with it: the same form to Check, which shows the count now.
	const checked = await request(`${server.url}/r?/check`, {
		method: 'POST',
		from: '127.0.0.26',
		headers: browser(server.url),
		body: `passphrase=${key}&uses_shown=2`
	});
	const page = checked.body.toString();
	expect(page).toContain('Checked again: this is now the last download');
	expect(page).toContain('This is the last download allowed');
	// Nothing was taken: the form that showed 1 gets the file.
	expect((await download(1)).body.toString()).toBe('two downloads');
});

test('the no-JS last-use 307 takes nothing and costs one scrypt, as a download does', async () => {
	const { body, contentType } = multipart([
		{ name: 'uses', data: '3' },
		{ name: 'file', filename: 'thrice.txt', data: 'three downloads' }
	]);
	const created = await request(`${server.url}/upload/`, {
		method: 'POST',
		from: '127.0.0.28',
		headers: { 'content-type': contentType },
		body
	});
	expect(created.status).toBe(201);
	const { key } = json(created) as { key: string };
	const download = (usesShown: number) =>
		request(`${server.url}/download`, {
			method: 'POST',
			from: '127.0.0.28',
			headers: browser(server.url),
			body: `passphrase=${key}&uses_shown=${usesShown}`
		});
	const status = async () =>
		json(
			await request(`${server.url}/status`, {
				method: 'POST',
				from: '127.0.0.28',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ passphrase: key })
			})
		) as { remaining_uses: number };

	// Not the last use: one scrypt for one download.
	let before = await scryptRuns();
	expect((await download(3)).body.toString()).toBe('three downloads');
	expect(await scryptRuns()).toBe(before + 1);
	expect((await download(3)).body.toString()).toBe('three downloads');
	expect((await status()).remaining_uses).toBe(1);
	// The last use, from a page that showed 3: sent back, one scrypt, nothing taken.
	before = await scryptRuns();
	const stale = await download(3);
	expect(stale.status).toBe(307);
	expect(await scryptRuns()).toBe(before + 1);
	for (let i = 0; i < 3; i++) expect((await download(2)).status).toBe(307);
	expect((await status()).remaining_uses).toBe(1);
	expect((await download(1)).body.toString()).toBe('three downloads');
});

test('an API client sending uses_shown is never sent back', async () => {
	const { body, contentType } = multipart([
		{ name: 'uses', data: '2' },
		{ name: 'file', filename: 'api.txt', data: 'api' }
	]);
	const created = await request(`${server.url}/upload/`, {
		method: 'POST',
		from: '127.0.0.27',
		headers: { 'content-type': contentType },
		body
	});
	const { key } = json(created) as { key: string };
	const form = { 'content-type': 'application/x-www-form-urlencoded' };
	for (let i = 0; i < 2; i++) {
		const reply = await request(`${server.url}/download`, {
			method: 'POST',
			from: '127.0.0.27',
			headers: form,
			body: `passphrase=${key}&uses_shown=2`
		});
		expect(reply.status).toBe(200);
	}
});
