/**
 * Where an upload's body is read from (http/upload-body.ts): the Node request that
 * server/index.js handed over, or the Request's own body.
 */
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, test } from 'vitest';
import { UPLOAD_BODY_KEY } from '../../server/shared.js';
import { uploadRequest } from '../../src/lib/server/http/upload-body';

const TYPE = 'multipart/form-data; boundary=x';

function event(req: IncomingMessage | undefined, headers: Record<string, string>) {
	const request = new Request('http://localhost/upload/', {
		method: 'POST',
		headers,
		body: headers['content-length'] === '0' ? null : 'body',
		duplex: 'half'
	} as RequestInit);
	return { request, platform: req && { req } };
}

describe('uploadRequest', () => {
	test('a handed-over body is the Node request, with the length it declared', () => {
		const req = new IncomingMessage(new Socket());
		Object.assign(req, { [UPLOAD_BODY_KEY]: { contentLength: 12345 } });
		// What Kit was shown: no body.
		const upload = uploadRequest(event(req, { 'content-type': TYPE, 'content-length': '0' }));
		expect(upload.body).toBe(req);
		expect(upload.contentLength).toBe(12345);
		expect(upload.contentType).toBe(TYPE);
	});

	test.each([
		['a Node request not handed over', new IncomingMessage(new Socket())],
		['no Node request (vite dev)', undefined]
	])('%s: the Request body and its Content-Length', (_, req) => {
		const e = event(req, { 'content-type': TYPE, 'content-length': '4' });
		const upload = uploadRequest(e);
		expect(upload.body).toBe(e.request.body);
		expect(upload.contentLength).toBe(4);
	});
});
