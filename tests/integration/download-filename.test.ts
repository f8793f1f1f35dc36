/**
 * A drop with a non-ASCII name, downloaded from the built server: browsers read the exact name
 * from `filename*`; curl (`-OJ`) reads only `filename`, so that must be a readable ASCII
 * spelling of it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { json, request, upload } from '../helpers/http';
import { startServer } from '../helpers/processes.js';
import type { TestServer } from '../helpers/processes.js';

const NAME = 'Grüße – 日本語 résumé 🐦.txt';
const FALLBACK = 'Grusse - ___ resume _.txt';
const CONTENT = 'Herzliche Grüße\n';

let server: TestServer;
let downloadUrl: string;

beforeAll(async () => {
	server = await startServer();
	const created = await upload(
		server.url,
		{ data: CONTENT, filename: NAME, contentType: 'text/plain' },
		{ uses: '2' }
	);
	expect(created.status, created.body.toString()).toBe(201);
	const body = json<{ filename: string; download_url: string }>(created);
	expect(body.filename).toBe(NAME);
	downloadUrl = body.download_url;
});

afterAll(async () => {
	await server?.stop();
});

test('the download names the file exactly in filename* and readably in filename', async () => {
	const reply = await request(downloadUrl);
	expect(reply.status).toBe(200);
	// node:http hands header bytes over as latin1; the value must be ASCII in any case.
	const disposition = reply.headers['content-disposition']!;
	expect(disposition).toMatch(/^[\x20-\x7e]+$/);
	expect(disposition).toBe(
		`attachment; filename="${FALLBACK}"; filename*=UTF-8''${encodeURIComponent(NAME)}`
	);
	expect(reply.body.toString('utf8')).toBe(CONTENT);
});

test('curl -OJ saves it under the readable fallback', async () => {
	const dir = mkdtempSync(path.join(tmpdir(), 'raven-zero-curl-'));
	try {
		await promisify(execFile)('curl', ['-sS', '--fail', '-O', '-J', downloadUrl], { cwd: dir });
		expect(readdirSync(dir)).toEqual([FALLBACK]);
		expect(readFileSync(path.join(dir, FALLBACK), 'utf8')).toBe(CONTENT);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});
