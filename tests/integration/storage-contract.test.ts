/**
 * The storage contract (src/lib/server/files/index.ts), the same tests on every backend: a
 * folder (`fs`), and a bucket of a real S3 engine (Swift's s3api, tests/helpers/swift.js)
 * with each checksum setting. What the uploads, downloads and sweeps rely on: a file exists
 * only once committed, reads back byte for byte, leaves nothing when discarded or cut off,
 * is listed for the sweeps (an upload in progress too) and is removed exactly once.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseConfig, type Config } from '../../src/lib/server/config';
import { DiskStorage, type FileEntry, type FileStorage } from '../../src/lib/server/files';
import { MIN_PART_SIZE, S3Storage } from '../../src/lib/server/files/s3';
import { waitFor } from '../helpers/processes.js';
import { startSwift, type TestSwift } from '../helpers/swift.js';

const MiB = 1024 * 1024;
const silent = pino({ level: 'silent' });
const newId = () => randomBytes(16).toString('hex');

let swift: TestSwift;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
	swift = await startSwift();
}, 120_000);

afterAll(async () => {
	for (const cleanup of cleanups.reverse()) await cleanup();
	await swift?.stop();
});

/** A configuration for `env` (the server would parse the same), relative to a fresh folder. */
function configFor(env: Record<string, string>): { config: Config; dir: string } {
	const dir = mkdtempSync(path.join(tmpdir(), 'raven-storage-'));
	cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
	return {
		dir,
		config: parseConfig(
			{ STORAGE_PATH: 'stored', TEMP_PATH: 'temp', MAX_FILE_SIZE: String(64 * MiB), ...env },
			dir
		)
	};
}

type Backend = { name: string; open(): Promise<FileStorage> };

async function openS3(env: Record<string, string>, log = silent): Promise<S3Storage> {
	const bucket = await swift.createBucket();
	const { config } = configFor(swift.env(bucket, env));
	const storage = new S3Storage(config, log, swift.credentials);
	cleanups.push(() => storage.close());
	await storage.prepare();
	return storage;
}

const BACKENDS: Backend[] = [
	{
		name: 'fs',
		async open() {
			const storage = new DiskStorage(configFor({}).config);
			await storage.prepare();
			return storage;
		}
	},
	{ name: 's3, checksums when_supported', open: () => openS3({ S3_CHECKSUMS: 'when_supported' }) },
	{ name: 's3, checksums when_required', open: () => openS3({ S3_CHECKSUMS: 'when_required' }) }
];

/** Write `data` through a new temp file in pieces of 64 KiB, as an upload arrives. */
async function write(storage: FileStorage, id: string, data: Buffer): Promise<void> {
	const temp = storage.createTemp(id);
	try {
		await pipeline(Readable.from(pieces(data)), temp.stream);
		await temp.commit();
	} catch (error) {
		await temp.discard();
		throw error;
	}
}

function* pieces(data: Buffer, size = 64 * 1024): Generator<Buffer> {
	for (let offset = 0; offset < data.length; offset += size) {
		yield data.subarray(offset, offset + size);
	}
}

async function readStored(storage: FileStorage, id: string): Promise<Buffer | undefined> {
	const file = await storage.openStored(id);
	if (!file) return undefined;
	const chunks: Buffer[] = [];
	for await (const chunk of file.stream) chunks.push(chunk as Buffer);
	const data = Buffer.concat(chunks);
	expect(file.size).toBe(data.length);
	return data;
}

const ids = (entries: FileEntry[]) => entries.map((entry) => entry.id);

/** An upload of `bytes` that has started (a multipart upload on S3) and is left hanging. */
async function hangingUpload(storage: FileStorage, id: string, bytes: number) {
	const temp = storage.createTemp(id);
	temp.stream.on('error', () => undefined);
	for (const piece of pieces(randomBytes(bytes))) {
		if (!temp.stream.write(piece))
			await new Promise((resolve) => temp.stream.once('drain', resolve));
	}
	// On S3 the multipart upload is created once the first part is full, then listed.
	const entry = await waitFor(
		async () => (await storage.listTemp()).find((listed) => listed.id === id),
		30_000,
		'the upload in progress in listTemp()'
	);
	return { temp, entry };
}

describe.each(BACKENDS)('the storage contract on $name', (backend) => {
	let storage: FileStorage;
	beforeAll(async () => {
		storage = await backend.open();
	}, 60_000);

	test('a committed file reads back byte for byte and is listed under its id', async () => {
		// Over two parts of the smallest size on S3: the multipart path, not a single PUT.
		const large = randomBytes(2 * MIN_PART_SIZE + 12_345);
		const small = randomBytes(1000);
		const [largeId, smallId, emptyId] = [newId(), newId(), newId()];
		await Promise.all([
			write(storage, largeId, large),
			write(storage, smallId, small),
			write(storage, emptyId, Buffer.alloc(0))
		]);
		expect((await readStored(storage, largeId))?.equals(large)).toBe(true);
		expect((await readStored(storage, smallId))?.equals(small)).toBe(true);
		expect((await readStored(storage, emptyId))?.length).toBe(0);
		const stored = await storage.listStored();
		expect(stored.find((entry) => entry.id === largeId)).toMatchObject({ size: large.length });
		expect(ids(stored)).toEqual(expect.arrayContaining([smallId, emptyId]));
		expect(ids(await storage.listTemp())).not.toContain(largeId);
	});

	test('a file is not there before its commit; a discarded one leaves nothing', async () => {
		const id = newId();
		const { temp } = await hangingUpload(storage, id, MIN_PART_SIZE + MiB);
		expect(await storage.openStored(id)).toBeUndefined();
		expect(ids(await storage.listStored())).not.toContain(id);
		await temp.discard();
		// An aborted multipart upload may stay listed for a moment on some engines.
		await waitFor(
			async () => !ids(await storage.listTemp()).includes(id),
			10_000,
			'the discarded upload gone from listTemp()'
		);
		expect(await storage.openStored(id)).toBeUndefined();
		expect(ids(await storage.listStored())).not.toContain(id);
	});

	test('a writer that fails midway (the client went away) makes a commit impossible and leaves nothing', async () => {
		const id = newId();
		const temp = storage.createTemp(id);
		async function* cutOff() {
			yield* pieces(randomBytes(MIN_PART_SIZE + MiB));
			throw new Error('the client went away');
		}
		await expect(pipeline(Readable.from(cutOff()), temp.stream)).rejects.toThrow('went away');
		await temp.discard();
		await expect(temp.commit()).rejects.toThrow();
		await waitFor(
			async () => !ids(await storage.listTemp()).includes(id),
			10_000,
			'the failed upload gone from listTemp()'
		);
		expect(await storage.openStored(id)).toBeUndefined();
	});

	test('an upload left behind (a crash) is listed by listTemp() and removed by remove()', async () => {
		const id = newId();
		const { temp, entry } = await hangingUpload(storage, id, MIN_PART_SIZE + MiB);
		expect(entry.modifiedAt).toBeGreaterThan(Date.now() - 5 * 60_000);
		expect(await storage.remove(entry)).toBe(true);
		await waitFor(
			async () => !ids(await storage.listTemp()).includes(id),
			10_000,
			'the removed upload gone from listTemp()'
		);
		expect(await storage.remove(entry)).toBe(false);
		await temp.discard();
		expect(await storage.openStored(id)).toBeUndefined();
	});

	test('a stored file is removed once: by id, or as a listed entry', async () => {
		const [byId, byEntry] = [newId(), newId()];
		await write(storage, byId, randomBytes(2000));
		await write(storage, byEntry, randomBytes(2000));
		expect(await storage.removeStored(byId)).toBe(true);
		expect(await storage.removeStored(byId)).toBe(false);
		expect(await storage.openStored(byId)).toBeUndefined();
		const entry = (await storage.listStored()).find((listed) => listed.id === byEntry)!;
		expect(await storage.remove(entry)).toBe(true);
		// Gone already (another sweep, another instance): not counted twice.
		expect(await storage.remove(entry)).toBe(false);
		expect(await storage.openStored(byEntry)).toBeUndefined();
		expect(ids(await storage.listStored())).not.toContain(byId);
		expect(ids(await storage.listStored())).not.toContain(byEntry);
	});

	test('an entry whose location is not its id’s file removes nothing', async () => {
		const [mine, other] = [newId(), newId()];
		await write(storage, other, randomBytes(500));
		const otherEntry = (await storage.listStored()).find((listed) => listed.id === other)!;
		// Another drop's file under this id, a bad id, a path or key outside ours.
		for (const forged of [
			{ ...otherEntry, id: mine },
			{ ...otherEntry, id: '../etc' },
			{ ...otherEntry, location: '/etc/hostname' }
		]) {
			await expect(storage.remove(forged)).rejects.toThrow();
		}
		expect(await readStored(storage, other)).toHaveLength(otherEntry.size);
		expect(await storage.remove(otherEntry)).toBe(true);
	});

	test('a file that was never written opens as undefined', async () => {
		expect(await storage.openStored(newId())).toBeUndefined();
		expect(await storage.removeStored(newId())).toBe(false);
	});

	test('only lookup ids make names', () => {
		for (const bad of ['../etc/passwd', 'A'.repeat(32), '', 'a'.repeat(31)]) {
			expect(() => storage.createTemp(bad)).toThrow('Not a lookup id');
		}
	});

	test('reports whether it is available', async () => {
		expect(await storage.isAvailable()).toBe(true);
	});
});

describe('on a folder (fs)', () => {
	test('free space is the file system’s; other names are listed as not ours', async () => {
		const { config } = configFor({});
		const storage = new DiskStorage(config);
		await storage.prepare();
		const space = await storage.space();
		expect(space.freeBytes).toBeGreaterThan(0);
		expect(space.sizeBytes).toBeGreaterThanOrEqual(space.freeBytes);
		writeFileSync(path.join(config.storagePath, 'notes.txt'), 'someone else');
		expect(await storage.listStored()).toEqual([
			expect.objectContaining({ id: '', location: path.join(config.storagePath, 'notes.txt') })
		]);
		rmSync(config.tempPath, { recursive: true });
		expect(await storage.isAvailable()).toBe(false);
	});
});

describe('on a bucket (s3)', () => {
	test('has no free space to tell', async () => {
		const storage = await openS3({});
		expect(await storage.space()).toBeUndefined();
	});

	test('keys that are not ours, under the prefix or beside it, are never listed nor removed', async () => {
		const bucket = await swift.createBucket();
		const { config } = configFor(swift.env(bucket, { S3_PREFIX: 'drops/' }));
		const storage = new S3Storage(config, silent, swift.credentials);
		cleanups.push(() => storage.close());
		await storage.prepare();
		const s3 = swift.client();
		cleanups.push(() => s3.destroy());
		const foreign = ['photo.jpg', `${'c'.repeat(32)}.rzf`, 'drops/notes.txt', 'drops/x.rzf'];
		for (const key of foreign) {
			await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'not ours' }));
		}
		const id = newId();
		await write(storage, id, randomBytes(100));
		const stored = await storage.listStored();
		expect(stored).toEqual([
			expect.objectContaining({ id, location: `drops/${id}.rzf`, size: expect.any(Number) })
		]);
		for (const key of foreign) {
			const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
			expect(await object.Body?.transformToString()).toBe('not ours');
		}
	});

	test('an upload holds at most three parts of memory, whatever its size (the same buffers reused)', async () => {
		const storage = await openS3({});
		const id = newId();
		// 96 MiB written as views of one 1 MiB block: the writer allocates nothing, so what
		// the process's array buffers grow by is the upload's own. Before, each 5 MiB part was
		// a fresh buffer concatenated from the chunks (both garbage once sent): the growth
		// reached tens of MiB before a collection.
		const block = randomBytes(MiB);
		const total = 96 * MiB;
		const before = process.memoryUsage().arrayBuffers;
		let peak = before;
		const sampler = setInterval(() => {
			peak = Math.max(peak, process.memoryUsage().arrayBuffers);
		}, 10);
		try {
			const temp = storage.createTemp(id);
			async function* views() {
				for (let offset = 0; offset < total; offset += 64 * 1024) {
					yield block.subarray(offset % MiB, (offset % MiB) + 64 * 1024);
				}
			}
			await pipeline(Readable.from(views()), temp.stream);
			await temp.commit();
		} finally {
			clearInterval(sampler);
		}
		const growth = (peak - before) / MiB;
		console.log(`array buffers grew by ${growth.toFixed(1)} MiB during a 96 MiB upload`);
		// Three 5 MiB parts (two in flight, one filling), and a little for the SDK.
		expect(growth).toBeLessThanOrEqual(3 * 5 + 5);
		const stored = await storage.listStored();
		expect(stored.find((entry) => entry.id === id)).toMatchObject({ size: total });
	}, 120_000);

	test('a bucket that does not exist stops the start with one line', async () => {
		const { config } = configFor(swift.env('no-such-bucket-here'));
		const storage = new S3Storage(config, silent, swift.credentials);
		cleanups.push(() => storage.close());
		await expect(storage.prepare()).rejects.toMatchObject({
			name: 'StartupError',
			message: expect.stringContaining('S3_BUCKET')
		});
	});

	test('an engine that does not answer is unavailable, quickly', async () => {
		const { config } = configFor(swift.env('any', { S3_ENDPOINT: 'http://127.0.0.1:9' }));
		const storage = new S3Storage(config, silent, swift.credentials);
		cleanups.push(() => storage.close());
		const started = Date.now();
		expect(await storage.isAvailable()).toBe(false);
		expect(Date.now() - started).toBeLessThan(10_000);
	});

	test('S3_APPLY_LIFECYCLE: an engine that refuses lifecycle rules is logged, and the start goes on', async () => {
		const lines: Record<string, unknown>[] = [];
		const log = pino(
			{ level: 'info' },
			{ write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }
		);
		const storage = await openS3({ S3_APPLY_LIFECYCLE: 'true' }, log);
		// Swift's s3api has no lifecycle support: 400 MalformedXML (or a 501 elsewhere).
		expect(lines).toContainEqual(expect.objectContaining({ event: 'storage_lifecycle_refused' }));
		expect(await storage.isAvailable()).toBe(true);
	});
});
