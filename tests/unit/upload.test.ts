/**
 * Receiving an upload, without a server: the multipart parser against bodies that end
 * badly, at the moments a client can choose.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { DiskStorage } from '../../src/lib/server/files';
import { RefusalError } from '../../src/lib/server/refusal';
import { receiveUpload } from '../../src/lib/server/upload';
import { multipart } from '../helpers/http';

let dir: string;
let files: DiskStorage;

beforeEach(() => {
	dir = mkdtempSync(path.join(tmpdir(), 'raven-upload-'));
	for (const sub of ['stored', 'temp']) mkdirSync(path.join(dir, sub));
	files = new DiskStorage({
		storagePath: path.join(dir, 'stored'),
		tempPath: path.join(dir, 'temp'),
		secureShredPasses: 1
	});
});

afterEach(() => {
	rmSync(dir, { recursive: true, force: true });
});

const config = {
	maxFileSize: 1024 * 1024,
	bodySizeLimit: 2 * 1024 * 1024,
	allowedMimeTypes: [] as readonly string[],
	minFreeDiskMb: 0
};

test('a body that ends inside the file part while its key is still being derived is 400, not a crash', async () => {
	// The file part begins, then the body ends at once. The sink attaches to the part's
	// stream only once the file key is ready (HKDF on libuv's pool, slow under load): the
	// truncation's 'error' on the part must not meet a stream nobody listens to, since an
	// unheard 'error' ends the process (found by the bad-input fuzz on a loaded machine).
	const { body, contentType } = multipart([
		{ name: 'file', filename: 'a.bin', data: randomBytes(64 * 1024) }
	]);
	const cut = body.subarray(0, 2000);
	const slowKey = async () => {
		await new Promise((resolve) => setTimeout(resolve, 200));
		return randomBytes(32);
	};
	const unheard: unknown[] = [];
	const listener = (error: unknown) => unheard.push(error);
	process.on('uncaughtException', listener);
	try {
		const received = receiveUpload(
			{
				body: new Blob([new Uint8Array(cut)]).stream(),
				contentType,
				contentLength: cut.length,
				id: 'a'.repeat(32),
				keyForSalt: slowKey
			},
			{ config, files }
		);
		await expect(received).rejects.toBeInstanceOf(RefusalError);
		await expect(received).rejects.toMatchObject({ refusal: { code: 'MALFORMED_MULTIPART' } });
		await new Promise((resolve) => setTimeout(resolve, 300));
	} finally {
		process.off('uncaughtException', listener);
	}
	expect(unheard).toEqual([]);
	expect(readdirSync(path.join(dir, 'temp'))).toEqual([]);
});
