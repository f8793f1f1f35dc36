import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runServerExpectingFailure } from '../helpers/processes.js';

const holder = createServer();
let dir: string;

beforeAll(async () => {
	dir = mkdtempSync(path.join(tmpdir(), 'raven-zero-port-'));
	holder.listen(0, '127.0.0.1');
	await once(holder, 'listening');
});

afterAll(() => {
	holder.close();
	rmSync(dir, { recursive: true, force: true });
});

test('a port already in use stops the server with one clear line and exit code 1', async () => {
	const port = (holder.address() as AddressInfo).port;
	const { code, stderr } = await runServerExpectingFailure({
		PORT: String(port),
		HOST: '127.0.0.1',
		STORAGE_PATH: path.join(dir, 'uploads'),
		TEMP_PATH: path.join(dir, 'temp'),
		LOG_PATH: path.join(dir, 'logs', 'raven_zero.log')
	});
	expect(code).toBe(1);
	expect(stderr.trim().split('\n')).toEqual([
		`raven-zero: port ${port} on 127.0.0.1 is already in use (another process listens there; stop it or set PORT)`
	]);
});
