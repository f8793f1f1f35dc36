/**
 * Each handle alone, with a fake `{ event, resolve }` (as Kit's own sequence tests do).
 * CORS_ORIGINS is set before the configuration is first read.
 */
import type { RequestEvent } from '@sveltejs/kit';
import { describe, expect, test } from 'vitest';
import { SECURITY_HEADERS, UUID_V4 } from '../helpers/headers';

process.env.CORS_ORIGINS = 'https://friend.example';

const { requestId } = await import('../../src/lib/server/http/request-id');
const { securityHeaders } = await import('../../src/lib/server/http/security-headers');
const { cors } = await import('../../src/lib/server/http/cors');
const { originGuard } = await import('../../src/lib/server/http/origin-guard');
const { jsonNotFound } = await import('../../src/lib/server/http/not-found');
const { limitKind } = await import('../../src/lib/server/http/rate-limit');

function fakeEvent(
	url: string,
	init: RequestInit & { routeId?: string | null } = {}
): RequestEvent {
	const { routeId = '/health', ...requestInit } = init;
	return {
		request: new Request(url, requestInit),
		url: new URL(url),
		route: { id: routeId },
		locals: {},
		getClientAddress: () => '203.0.113.9'
	} as unknown as RequestEvent;
}

const ok = () => async () => new Response('ok', { status: 200 });

describe('requestId', () => {
	test('gives each request a fresh UUID v4 and echoes it', async () => {
		const event = fakeEvent('http://app.test/health', {
			headers: { 'x-request-id': 'client-chosen-id' }
		});
		const response = await requestId({ event, resolve: ok() });
		expect(event.locals.requestId).toMatch(UUID_V4);
		expect(response.headers.get('x-request-id')).toBe(event.locals.requestId);
	});

	test("takes the entry point's id, but only when it is a UUID v4", async () => {
		const id = '6f1c1f0e-8a51-4c38-9d0e-1a2b3c4d5e6f';
		const event = fakeEvent('http://app.test/', { headers: { 'x-raven-request-id': id } });
		await requestId({ event, resolve: ok() });
		expect(event.locals.requestId).toBe(id);

		const forged = fakeEvent('http://app.test/', { headers: { 'x-raven-request-id': 'abc' } });
		await requestId({ event: forged, resolve: ok() });
		expect(forged.locals.requestId).toMatch(UUID_V4);
	});
});

describe('securityHeaders', () => {
	test.each([
		['a page', async () => new Response('<p>hi</p>', { headers: { 'content-type': 'text/html' } })],
		['an error', async () => Response.json({ error_code: 'X' }, { status: 500 })],
		['an immutable redirect', async () => Response.redirect('http://app.test/', 303)]
	] as const)('are set on %s', async (_, resolve) => {
		const response = await securityHeaders({ event: fakeEvent('http://app.test/'), resolve });
		expect(Object.fromEntries(response.headers)).toMatchObject(SECURITY_HEADERS);
	});
});

describe('cors', () => {
	test('lets a listed origin read responses, exposing X-SHA256 and Content-Disposition', async () => {
		const event = fakeEvent('http://app.test/health', {
			headers: { origin: 'https://friend.example' }
		});
		const response = await cors({ event, resolve: ok() });
		expect(response.headers.get('access-control-allow-origin')).toBe('https://friend.example');
		expect(response.headers.get('access-control-expose-headers')).toContain('X-SHA256');
		expect(response.headers.get('access-control-expose-headers')).toContain('Content-Disposition');
	});

	test('gives any other origin nothing', async () => {
		const event = fakeEvent('http://app.test/health', {
			headers: { origin: 'https://evil.example' }
		});
		const response = await cors({ event, resolve: ok() });
		expect(response.headers.get('access-control-allow-origin')).toBeNull();
	});

	test('answers preflights for listed origins only, with GET and POST', async () => {
		const preflight = (origin: string) =>
			fakeEvent('http://app.test/upload', {
				method: 'OPTIONS',
				headers: { origin, 'access-control-request-method': 'POST' }
			});
		const friendly = await cors({ event: preflight('https://friend.example'), resolve: ok() });
		expect(friendly.status).toBe(204);
		expect(friendly.headers.get('access-control-allow-methods')).toBe('GET, POST');
		expect(friendly.headers.get('access-control-allow-headers')).toBe(
			'Content-Type, Accept, X-Access-Key'
		);

		const hostile = await cors({ event: preflight('https://evil.example'), resolve: ok() });
		expect(hostile.status).toBe(204);
		expect(hostile.headers.get('access-control-allow-origin')).toBeNull();
	});
});

describe('originGuard', () => {
	test.each([
		['curl posting to an API route (no Origin)', '/upload', {}, 200],
		['the site itself', '/', { origin: 'http://app.test' }, 200],
		['a listed origin', '/upload', { origin: 'https://friend.example' }, 200],
		['another site', '/upload', { origin: 'https://evil.example' }, 403],
		['a page action without Origin', '/', {}, 403]
	] as const)('POST from %s -> %i', async (_, routeId, headers, status) => {
		const event = fakeEvent(`http://app.test${routeId}`, { method: 'POST', headers, routeId });
		const response = await originGuard({ event, resolve: ok() });
		expect(response.status).toBe(status);
		if (status === 403)
			expect(await response.json()).toMatchObject({ error_code: 'CROSS_ORIGIN_FORBIDDEN' });
	});

	test('lets every GET through', async () => {
		const event = fakeEvent('http://app.test/', { headers: { origin: 'https://evil.example' } });
		expect((await originGuard({ event, resolve: ok() })).status).toBe(200);
	});
});

describe('jsonNotFound', () => {
	test('answers unknown paths with the JSON error shape for API clients', async () => {
		const event = fakeEvent('http://app.test/nope', { routeId: null, headers: { accept: '*/*' } });
		const response = await jsonNotFound({ event, resolve: ok() });
		expect(response.status).toBe(404);
		expect(await response.json()).toEqual({
			error_code: 'NOT_FOUND',
			detail: 'There is nothing at this address.'
		});
	});

	test("turns Kit's plain-text 405 into the JSON shape, keeping Allow", async () => {
		const event = fakeEvent('http://app.test/upload', { method: 'DELETE', routeId: '/upload' });
		const kit405 = async () =>
			new Response('DELETE method not allowed', { status: 405, headers: { allow: 'POST' } });
		const response = await jsonNotFound({ event, resolve: kit405 });
		expect(response.status).toBe(405);
		expect(response.headers.get('allow')).toBe('POST');
		expect(await response.json()).toEqual({
			error_code: 'METHOD_NOT_ALLOWED',
			detail: 'DELETE is not allowed here; use POST.'
		});
	});

	test("leaves browsers to Kit's error page", async () => {
		const event = fakeEvent('http://app.test/nope', {
			routeId: null,
			headers: { accept: 'text/html' }
		});
		expect((await jsonNotFound({ event, resolve: ok() })).status).toBe(200);
	});
});

describe('rateLimit: which limit a request counts against', () => {
	test.each([
		['/health', 'GET', 'health'],
		['/upload', 'POST', 'upload'],
		// The send page's form action (no JavaScript) is an upload like any other.
		['/', 'POST', 'upload'],
		['/', 'GET', undefined],
		['/download', 'POST', 'lookup'],
		['/download/[key]', 'GET', 'lookup'],
		['/status', 'POST', 'lookup'],
		['/status/[key]', 'GET', 'lookup'],
		['/preview/[key]', 'GET', 'lookup'],
		// The retrieval page's "Check" action looks a passphrase up; its GET is only the form.
		['/r', 'POST', 'lookup'],
		['/r', 'GET', undefined],
		['/words.json', 'GET', undefined],
		[null, 'POST', undefined]
	] as const)('%s %s -> %s', (routeId, method, kind) => {
		expect(limitKind(routeId, method)).toBe(kind);
	});
});

describe('originGuard on the pages', () => {
	test.each([
		['the retrieval page from itself', '/r', { origin: 'http://app.test' }, 200],
		['the retrieval page from another site', '/r', { origin: 'https://evil.example' }, 403],
		['the retrieval page without Origin', '/r', {}, 403],
		// What browsers send for a form POST under Referrer-Policy: no-referrer (see app.html).
		['the send page with Origin: null', '/', { origin: 'null' }, 403]
	] as const)('POST to %s -> %i', async (_, routeId, headers, status) => {
		const event = fakeEvent(`http://app.test${routeId}`, { method: 'POST', headers, routeId });
		expect((await originGuard({ event, resolve: ok() })).status).toBe(status);
	});
});
