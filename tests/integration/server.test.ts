/**
 * The built server (`node server/index.js`) over real HTTP: health, headers on every kind of
 * response, request ids that match log lines, start-up errors, and shutdown.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { SECURITY_HEADERS, UUID_V4 } from '../helpers/headers';
import { runServerExpectingFailure, sleep, startServer } from '../helpers/processes.js';
import { serverForTests } from '../helpers/running';

const pkg = JSON.parse(
	readFileSync(path.resolve(import.meta.dirname, '../../package.json'), 'utf8')
) as {
	version: string;
};

describe('with the in-process store', () => {
	const { server } = serverForTests({}, { store: 'memory' });

	test('GET /health/ reports every service in the seed shape', async () => {
		const response = await fetch(`${server.url}/health/`);
		expect(response.status).toBe(200);
		const body = (await response.json()) as Record<string, unknown>;
		expect(Object.keys(body).sort()).toEqual(
			['services', 'started_at', 'status', 'timestamp', 'uptime_seconds', 'version'].sort()
		);
		expect(body).toMatchObject({
			status: 'healthy',
			version: pkg.version,
			services: { redis: 'embedded', storage: 'online', scheduler: 'online', diceware: 'online' }
		});
		expect(new Date(body.timestamp as string).toISOString()).toBe(body.timestamp);
		expect(body.uptime_seconds).toEqual(expect.any(Number));
		expect(
			server.lines.some((line) => line.event === 'store_in_process' && line.level === 'warn')
		).toBe(true);
	});

	test('/health (no slash) answers the same, and a second check within the second is 429', async () => {
		await sleep(1100);
		const first = await fetch(`${server.url}/health`);
		expect(first.status).toBe(200);
		const second = await fetch(`${server.url}/health`);
		expect(second.status).toBe(429);
		expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
		expect(second.headers.get('ratelimit-limit')).toBe('1');
		expect(await second.json()).toMatchObject({ error_code: 'RATE_LIMITED' });
	});

	test.each([
		['a page', '/', 'text/html', 200, '/'],
		['an unknown path', '/no/such/thing', '*/*', 404, '(unmatched)'],
		['an unknown page', '/no/such/page', 'text/html', 404, '(unmatched)'],
		['a static asset', '/favicon.svg', '*/*', 200, '(static)'],
		['a health check', '/health/', '*/*', 0, '/health'],
		['a lookup answer', '/status/abacus-abdomen-abide-able', '*/*', 404, '/status/[key]']
	] as const)(
		'%s carries the security headers and an X-Request-ID matching its log line',
		async (_, urlPath, accept, status, loggedPath) => {
			const response = await fetch(`${server.url}${urlPath}`, { headers: { accept } });
			await response.arrayBuffer();
			if (status) expect(response.status).toBe(status);
			expect(Object.fromEntries(response.headers)).toMatchObject(SECURITY_HEADERS);
			const id = response.headers.get('x-request-id');
			expect(id).toMatch(UUID_V4);
			const line = await server.waitForLine((l) => l.event === 'request' && l.request_id === id);
			expect(line).toMatchObject({
				level: 'info',
				method: 'GET',
				path: loggedPath,
				status_code: response.status
			});
			expect(line.duration).toEqual(expect.any(Number));
			expect(new Date(line.timestamp as string).toISOString()).toBe(line.timestamp);
		}
	);

	test('pages carry a Content-Security-Policy without unsafe-eval or inline scripts', async () => {
		const response = await fetch(server.url, { headers: { accept: 'text/html' } });
		const csp = response.headers.get('content-security-policy') ?? '';
		expect(csp).toContain("default-src 'self'");
		expect(csp).toContain("frame-ancestors 'none'");
		expect(csp).not.toContain('unsafe-eval');
		expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
	});

	test('a client-chosen X-Request-ID is replaced', async () => {
		const response = await fetch(`${server.url}/nope`, { headers: { 'x-request-id': 'mine' } });
		expect(response.headers.get('x-request-id')).toMatch(UUID_V4);
	});

	test('the log carries route ids, never the raw URL (which can hold a passphrase)', async () => {
		const response = await fetch(`${server.url}/download/velvet-gravy-amulet-ocean?k=velvet-gravy`);
		const id = response.headers.get('x-request-id');
		await server.waitForLine((l) => l.request_id === id);
		expect(JSON.stringify(server.lines)).not.toContain('velvet');
	});

	test('no CORS headers for other origins by default', async () => {
		const response = await fetch(`${server.url}/health/`, {
			headers: { origin: 'https://evil.example' }
		});
		expect(response.headers.get('access-control-allow-origin')).toBeNull();
	});

	test('a cross-site form POST is refused, with the JSON error shape', async () => {
		const response = await fetch(`${server.url}/`, {
			method: 'POST',
			headers: {
				origin: 'https://evil.example',
				'content-type': 'application/x-www-form-urlencoded'
			},
			body: 'a=b'
		});
		expect(response.status).toBe(403);
		expect(await response.json()).toMatchObject({ error_code: 'CROSS_ORIGIN_FORBIDDEN' });
	});

	test('the log file holds the same JSON lines, in a rotated file under LOG_PATH', async () => {
		const logDir = path.join(server.dir, 'logs');
		await server.waitForLine((l) => l.event === 'request');
		const files = readdirSync(logDir);
		expect(files).toContain('raven_zero.1.log');
		expect(files).toContain('current.log');
		// The file stream is asynchronous; give it a moment to catch up with stdout.
		await sleep(300);
		const lines = readFileSync(path.join(logDir, 'raven_zero.1.log'), 'utf8').trim().split('\n');
		const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
		expect(parsed.some((l) => l.event === 'started')).toBe(true);
		expect(parsed.some((l) => l.event === 'request')).toBe(true);
	});

	test('SIGTERM stops it cleanly: exit code 0, a shutdown line', async () => {
		const own = await startServer();
		const code = await own.stop('SIGTERM');
		expect(code).toBe(0);
		expect(own.lines.map((l) => l.event)).toEqual(expect.arrayContaining(['stopping', 'shutdown']));
	});
});

describe('a bad configuration refuses to start with one clear line', () => {
	test.each([
		[
			{ MAX_FILE_SIZE: 'abc' },
			'raven-zero: Invalid value for MAX_FILE_SIZE: "abc" (should be a whole number'
		],
		[{ REDIS_URL: 'nope' }, 'raven-zero: Invalid value for REDIS_URL: "nope"'],
		[{ BODY_SIZE_LIMIT: '512K' }, 'raven-zero: Invalid value for BODY_SIZE_LIMIT: "512K"'],
		[
			{ DICEWARE_WORDLIST_PATH: '/no/such/list.txt' },
			'raven-zero: Cannot read the diceware word list'
		]
	])('%o', async (env, message) => {
		const { code, stderr } = await runServerExpectingFailure(env);
		expect(code).toBe(1);
		expect(stderr.trim().split('\n')).toHaveLength(1);
		expect(stderr).toContain(message);
		expect(stderr).not.toMatch(/\n\s+at /);
	});
});
