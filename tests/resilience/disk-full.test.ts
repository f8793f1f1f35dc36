/**
 * A full disk, for real: STORAGE_PATH and TEMP_PATH on an 8 MiB tmpfs (one file system, so
 * the final rename stays atomic). Uploads that hit ENOSPC answer 507 DISK_FULL and keep
 * nothing, stored drops still download, and uploads work again once space is freed; with
 * MIN_FREE_DISK_MB the refusal (507 INSUFFICIENT_STORAGE) comes before the body is read.
 * Mounting needs root: without it these tests are skipped, saying so.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { json, request, upload } from '../helpers/http';
import { startServer, waitFor } from '../helpers/processes.js';
import type { TestServer } from '../helpers/processes.js';
import { filesIn, randomData, slowUpload } from './support';

const MiB = 1024 * 1024;

function mount(dir: string, size: string) {
	execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], {
		stdio: 'pipe'
	});
}

function unmount(dir: string) {
	execFileSync('umount', [dir], { stdio: 'pipe' });
}

/** Whether this machine lets us mount a tmpfs (root, not in a locked-down container). */
function canMount(): { ok: boolean; why?: string } {
	const probe = mkdtempSync(path.join(tmpdir(), 'raven-zero-mount-probe-'));
	try {
		mount(probe, '1m');
		unmount(probe);
		return { ok: true };
	} catch (error) {
		return { ok: false, why: (error as Error).message.split('\n')[0] };
	} finally {
		rmSync(probe, { recursive: true, force: true });
	}
}

const mountable = canMount();
if (!mountable.ok) {
	console.warn(
		`disk-full tests SKIPPED: cannot mount a tmpfs here (needs root): ${mountable.why ?? ''}`
	);
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe.skipIf(!mountable.ok)('disk full, on an 8 MiB tmpfs', () => {
	let mountPoint = '';
	let mounted = false;
	const servers: TestServer[] = [];
	const filler = () => path.join(mountPoint, 'filler.bin');

	const folders = (name: string) => ({
		STORAGE_PATH: path.join(mountPoint, name, 'uploads'),
		TEMP_PATH: path.join(mountPoint, name, 'temp')
	});
	const freeBytes = () => {
		const stats = statfsSync(mountPoint);
		return stats.bavail * stats.bsize;
	};
	/** Fill the file system up to `leave` bytes free with a file of our own. */
	const fillLeaving = (leave: number) => {
		rmSync(filler(), { force: true });
		writeFileSync(filler(), Buffer.alloc(Math.max(0, freeBytes() - leave)));
	};

	beforeAll(async () => {
		mountPoint = mkdtempSync(path.join(tmpdir(), 'raven-zero-tmpfs-'));
		mount(mountPoint, '8m');
		mounted = true;
		for (const name of ['full', 'low']) {
			for (const dir of Object.values(folders(name))) mkdirSync(dir, { recursive: true });
		}
		servers.push(
			await startServer({
				...folders('full'),
				MIN_FREE_DISK_MB: '0',
				MAX_FILE_SIZE: String(20 * MiB),
				UPLOAD_RATE_LIMIT: '1000/minute'
			}),
			await startServer({
				...folders('low'),
				MIN_FREE_DISK_MB: '4',
				MAX_FILE_SIZE: String(20 * MiB),
				UPLOAD_RATE_LIMIT: '1000/minute'
			})
		);
	});

	afterAll(async () => {
		await Promise.all(servers.map((server) => server.stop()));
		// Unmount even when a test failed; the folder goes with it.
		if (mounted) unmount(mountPoint);
		if (mountPoint) rmSync(mountPoint, { recursive: true, force: true });
	});

	test('the disk fills during uploads: 507 DISK_FULL with a sentence, nothing partial, stored drops still download, works again once freed', async () => {
		const [server] = servers;
		const { STORAGE_PATH, TEMP_PATH } = folders('full');
		const stored = await Promise.all(
			[1, 2].map(async () => {
				const data = randomData(MiB);
				const reply = await upload(server!.url, { data });
				expect(reply.status).toBe(201);
				return { key: json<{ key: string }>(reply).key, data };
			})
		);

		fillLeaving(1.5 * MiB);
		const tooBig = await upload(server!.url, { data: randomData(3 * MiB) });
		expect(tooBig.status).toBe(507);
		const body = json<{ error_code: string; detail: string }>(tooBig);
		expect(body.error_code).toBe('DISK_FULL');
		expect(body.detail).toMatch(/^[A-Z].+\.$/);
		expect(filesIn(TEMP_PATH)).toEqual([]);
		expect(filesIn(STORAGE_PATH)).toHaveLength(2);

		// Several at once on what is left: each either fits whole (201) or is refused (507).
		const racing = await Promise.all(
			Array.from({ length: 4 }, (_, i) =>
				upload(server!.url, { data: randomData(MiB) }, {}, { from: `127.0.0.${10 + i}` })
			)
		);
		const statuses = racing.map((reply) => reply.status);
		expect(statuses.every((status) => status === 201 || status === 507)).toBe(true);
		expect(statuses.filter((status) => status === 507).length).toBeGreaterThanOrEqual(2);
		const fitted = statuses.filter((status) => status === 201).length;
		await waitFor(() => filesIn(TEMP_PATH).length === 0, 2000, 'temp parts removed');
		expect(filesIn(STORAGE_PATH)).toHaveLength(2 + fitted);

		// Drops stored before the disk filled still download, byte for byte (and burn).
		for (const drop of stored) {
			const reply = await request(`${server!.url}/download/${drop.key}`);
			expect(reply.status).toBe(200);
			expect(sha256(reply.body)).toBe(sha256(drop.data));
		}
		// Space freed: the upload that failed now fits.
		unlinkSync(filler());
		const data = randomData(3 * MiB);
		const retried = await upload(server!.url, { data });
		expect(retried.status).toBe(201);
		const back = await request(`${server!.url}/download/${json<{ key: string }>(retried).key}`);
		expect(sha256(back.body)).toBe(sha256(data));
		// The burned drops are shredded once their downloads end; only the racing uploads' stay.
		// (Waited for here, since the next test sizes its filler on this same file system: space
		// freed after that made its upload fit, and it then waited for a body never sent.)
		await waitFor(() => filesIn(STORAGE_PATH).length === fitted, 5000, 'the burned drops shredded');
		expect(server!.lines.filter((line) => line.event === 'unhandled_error')).toEqual([]);
		console.log(
			`disk full: 3 MiB upload into 1.5 MiB free -> 507 DISK_FULL; 4 racing 1 MiB uploads -> ${statuses.join(', ')}; ` +
				'nothing partial left; stored drops downloaded; 201 again once space was freed'
		);
	});

	test('under MIN_FREE_DISK_MB: 507 INSUFFICIENT_STORAGE before the body is read; 201 once freed', async () => {
		const [, server] = servers;
		const { STORAGE_PATH, TEMP_PATH } = folders('low');
		fillLeaving(2 * MiB);
		// Only the first kilobyte of a 3 MiB body is sent: the answer must not wait for the rest.
		const started = Date.now();
		const refused = slowUpload(server!.url, randomData(3 * MiB), { firstBytes: 1024 });
		const reply = await refused.reply;
		refused.abort();
		expect(reply.status).toBe(507);
		expect(json(reply)).toMatchObject({ error_code: 'INSUFFICIENT_STORAGE' });
		const answeredMs = Date.now() - started;
		expect(answeredMs).toBeLessThan(2000);
		expect(filesIn(TEMP_PATH)).toEqual([]);
		expect(filesIn(STORAGE_PATH)).toEqual([]);

		unlinkSync(filler());
		expect((await upload(server!.url, { data: randomData(MiB) })).status).toBe(201);
		console.log(
			`under MIN_FREE_DISK_MB: 507 INSUFFICIENT_STORAGE after ${answeredMs} ms with 1 KiB of a 3 MiB body sent; 201 once freed`
		);
	});
});
