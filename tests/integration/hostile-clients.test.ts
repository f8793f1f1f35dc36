/**
 * Findings of the hostile audit (issue #12) that one request shows, each against the built
 * server: what a hostile web page can make its visitors' browsers do, bodies that try the
 * parser, and what /health/ says about the process.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { json, request } from '../helpers/http';
import { startServer, type TestServer } from '../helpers/server';

let server: TestServer;
let firstRequestAt: number;

beforeAll(async () => {
	server = await startServer({ DOWNLOAD_FAIL_LIMIT: '3' });
	// The process has been up a while before anyone asks for its health.
	await new Promise((resolve) => setTimeout(resolve, 1500));
	firstRequestAt = Date.now();
});

afterAll(async () => {
	await server?.stop();
});

const guess = 'abacus-abdomen-abide-able';

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

	test('a link followed to a download (navigate) is not refused', async () => {
		const reply = await request(`${server.url}/download/${guess}`, {
			from: '127.0.0.52',
			headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' }
		});
		expect(reply.status).toBe(404);
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
