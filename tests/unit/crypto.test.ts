import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, test } from 'vitest';
import {
	DecryptStream,
	EncryptStream,
	encryptedSize,
	HEADER_LENGTH,
	IntegrityError,
	TAG_LENGTH
} from '../../src/lib/server/crypto/file-format';
import {
	accessForPassphrase,
	deriveFileKey,
	deriveKeys,
	KDF_CONCURRENCY,
	KdfBusyError,
	kdfQueueLength,
	openMetadata,
	sealMetadata
} from '../../src/lib/server/crypto/keys';

const CHUNK = 1024;
const key = Buffer.alloc(32, 7);
const salt = Buffer.alloc(16, 3);

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
	const parts: Buffer[] = [];
	for await (const part of stream) parts.push(part as Buffer);
	return Buffer.concat(parts);
}

/** Feed `input` in pieces of `piece` bytes, as a network would. */
function source(input: Buffer, piece = 777): Readable {
	const pieces: Buffer[] = [];
	for (let i = 0; i < input.length; i += piece) pieces.push(input.subarray(i, i + piece));
	return Readable.from(pieces);
}

async function encrypt(plain: Buffer, chunkSize = CHUNK): Promise<Buffer> {
	return collect(source(plain).pipe(new EncryptStream({ key, salt, chunkSize })));
}

async function decrypt(stored: Buffer, withKey = key): Promise<Buffer> {
	const out: Buffer[] = [];
	await pipeline(
		source(stored, 500),
		new DecryptStream({ keyForSalt: async () => withKey }),
		async (it) => {
			for await (const part of it) out.push(part as Buffer);
		}
	);
	return Buffer.concat(out);
}

describe('key derivation', () => {
	test('is deterministic and matches fixed vectors', async () => {
		const keys = await deriveKeys('ocean-velvet-gravy-amulet');
		const again = await deriveKeys('ocean-velvet-gravy-amulet');
		expect(keys.lookupId).toBe(again.lookupId);
		expect(keys.lookupId).toMatch(/^[0-9a-f]{32}$/);
		expect(keys.metaKey.equals(again.metaKey)).toBe(true);
		// Fixed vectors: a change to the KDF parameters or labels would orphan every stored drop.
		expect(keys.lookupId).toBe(FIXED.lookupId);
		expect(keys.metaKey.toString('hex')).toBe(FIXED.metaKey);
		expect((await deriveFileKey(keys.master, salt)).toString('hex')).toBe(FIXED.fileKey);
	});

	test('differs for another passphrase, another server secret, another file salt', async () => {
		const base = await deriveKeys('ocean-velvet-gravy-amulet');
		const otherWord = await deriveKeys('ocean-velvet-gravy-abacus');
		const otherSecret = await deriveKeys('ocean-velvet-gravy-amulet', 'a-server-secret-of-length');
		expect(new Set([base.lookupId, otherWord.lookupId, otherSecret.lookupId]).size).toBe(3);
		// SERVER_SECRET is the HKDF salt of the master key (v2), not part of the scrypt.
		expect(otherSecret.lookupId).toBe(FIXED.lookupIdWithSecret);
		const fileA = await deriveFileKey(base.master, salt);
		const fileB = await deriveFileKey(base.master, Buffer.alloc(16, 4));
		expect(fileA.equals(fileB)).toBe(false);
		expect(fileA.equals(base.metaKey)).toBe(false);
	});
});

describe('the scrypt queue (KDF_QUEUE_LIMIT, KDF_MAX_WAIT_MS)', () => {
	/** Start `count` derivations at once; each settles as a key or a shed, with its time. */
	function burst(count: number, bounds: { queueLimit: number; maxWaitMs: number }) {
		const started = performance.now();
		return Promise.all(
			Array.from({ length: count }, (_, i) =>
				accessForPassphrase(`word-${i}`, bounds).then(
					() => ({ shed: false, ms: performance.now() - started }),
					(error: unknown) => {
						expect(error).toBeInstanceOf(KdfBusyError);
						return { shed: true, ms: performance.now() - started };
					}
				)
			)
		);
	}

	test('a request still waiting after KDF_MAX_WAIT_MS is shed then, not when its turn comes', async () => {
		// 60 scrypts take over a second on two cores; the wait is bounded at 150 ms.
		const settled = await burst(60, { queueLimit: Infinity, maxWaitMs: 150 });
		const shed = settled.filter((one) => one.shed);
		expect(settled.filter((one) => !one.shed).length).toBeGreaterThanOrEqual(KDF_CONCURRENCY);
		expect(shed.length).toBeGreaterThan(0);
		// Shed at the deadline (timers on a busy machine run a little late), not a second on.
		for (const one of shed) expect(one.ms).toBeLessThan(150 + 500);
		expect(kdfQueueLength()).toBe(0);
	});

	test('past KDF_QUEUE_LIMIT waiting, a request is shed at once', async () => {
		const settled = await burst(KDF_CONCURRENCY + 3 + 5, { queueLimit: 3, maxWaitMs: 60_000 });
		// The first KDF_CONCURRENCY run, 3 wait, the last 5 find the queue full.
		expect(settled.map((one) => one.shed)).toEqual([
			...Array<boolean>(KDF_CONCURRENCY + 3).fill(false),
			...Array<boolean>(5).fill(true)
		]);
		expect(kdfQueueLength()).toBe(0);
	});

	test('an observer that throws neither hangs nor fails a derivation, nor changes a shed', async () => {
		const throwing = {
			kdfWaited() {
				throw new Error('observer broke');
			},
			kdfRan() {
				throw new Error('observer broke');
			},
			kdfShed() {
				throw new Error('observer broke');
			}
		};
		const key = await accessForPassphrase(
			'word-a',
			{ queueLimit: 10, maxWaitMs: 60_000 },
			throwing
		);
		expect(key.length).toBe(32);
		// Shed at once (queue full): still a KdfBusyError, as a rejection, not a throw.
		const running = Array.from({ length: KDF_CONCURRENCY }, (_, i) =>
			accessForPassphrase(`word-run-${i}`, { queueLimit: 0, maxWaitMs: 60_000 }, throwing)
		);
		const full = (() => {
			try {
				return accessForPassphrase('word-full', { queueLimit: 0, maxWaitMs: 60_000 }, throwing);
			} catch (error) {
				return Promise.resolve(error);
			}
		})();
		await expect(full).rejects.toBeInstanceOf(KdfBusyError);
		// Shed by the deadline: a KdfBusyError too, on time.
		const late = accessForPassphrase('word-late', { queueLimit: 10, maxWaitMs: 1 }, throwing);
		await expect(late).rejects.toBeInstanceOf(KdfBusyError);
		for (const one of await Promise.all(running)) expect(one.length).toBe(32);
		expect(kdfQueueLength()).toBe(0);
	});
});

describe('metadata sealing', () => {
	test('round-trips, and refuses another key or another lookup id', async () => {
		const keys = await deriveKeys('ocean-velvet-gravy-amulet');
		const blob = sealMetadata(keys.metaKey, keys.lookupId, { filename: 'secret.pdf', size: 3 });
		expect(blob).not.toContain('secret');
		expect(openMetadata(keys.metaKey, keys.lookupId, blob)).toEqual({
			filename: 'secret.pdf',
			size: 3
		});
		expect(() => openMetadata(Buffer.alloc(32), keys.lookupId, blob)).toThrow();
		expect(() => openMetadata(keys.metaKey, '0'.repeat(32), blob)).toThrow();
	});
});

describe('RZF1 streams', () => {
	test.each([
		['0 bytes', 0],
		['1 byte', 1],
		['exactly one chunk', CHUNK],
		['one chunk + 1', CHUNK + 1],
		['exactly three chunks', 3 * CHUNK],
		['3 MiB', 3 * 1024 * 1024 + 17]
	])('round-trips %s, at the size encryptedSize() predicts', async (_, size) => {
		const plain = randomBytes(size);
		const stored = await encrypt(plain);
		expect(stored.length).toBe(encryptedSize(size, CHUNK));
		expect(stored.subarray(0, 4).toString()).toBe('RZF1');
		expect(stored.includes(plain.subarray(0, Math.min(size, 64))) && size >= 16).toBe(false);
		const back = await decrypt(stored);
		expect(createHash('sha256').update(back).digest('hex')).toBe(
			createHash('sha256').update(plain).digest('hex')
		);
	});

	test('the default 64 KiB chunks round-trip too', async () => {
		const plain = randomBytes(200_000);
		const stored = await collect(source(plain, 10_000).pipe(new EncryptStream({ key, salt })));
		expect(stored.length).toBe(encryptedSize(plain.length));
		expect((await decrypt(stored)).equals(plain)).toBe(true);
	});

	const plain = randomBytes(3 * CHUNK + 100);
	const sealed = CHUNK + TAG_LENGTH;
	const chunkAt = (i: number) => HEADER_LENGTH + i * sealed;

	test.each([
		['a flipped bit in the header', (s: Buffer) => flip(s, 10)],
		['a flipped bit in the first chunk', (s: Buffer) => flip(s, chunkAt(0) + 5)],
		['a flipped bit in a tag', (s: Buffer) => flip(s, chunkAt(1) - 1)],
		['a flipped bit in the last chunk', (s: Buffer) => flip(s, s.length - 20)],
		[
			'a dropped middle chunk',
			(s: Buffer) => Buffer.concat([s.subarray(0, chunkAt(1)), s.subarray(chunkAt(2))])
		],
		['a dropped last chunk', (s: Buffer) => s.subarray(0, chunkAt(3))],
		[
			'two chunks swapped',
			(s: Buffer) =>
				Buffer.concat([
					s.subarray(0, chunkAt(0)),
					s.subarray(chunkAt(1), chunkAt(2)),
					s.subarray(chunkAt(0), chunkAt(1)),
					s.subarray(chunkAt(2))
				])
		],
		['a truncated last chunk', (s: Buffer) => s.subarray(0, s.length - 1)],
		['trailing bytes', (s: Buffer) => Buffer.concat([s, Buffer.from([0])])],
		['only a header', (s: Buffer) => s.subarray(0, HEADER_LENGTH)],
		['half a header', (s: Buffer) => s.subarray(0, 10)],
		['bad magic', (s: Buffer) => Buffer.concat([Buffer.from('XXXX'), s.subarray(4)])]
	])('%s fails authentication', async (_, tamper) => {
		const stored = await encrypt(plain);
		await expect(decrypt(tamper(Buffer.from(stored)))).rejects.toBeInstanceOf(IntegrityError);
	});

	test('the wrong key fails authentication', async () => {
		const stored = await encrypt(plain);
		await expect(decrypt(stored, Buffer.alloc(32, 8))).rejects.toBeInstanceOf(IntegrityError);
	});

	test('no byte of a chunk that fails is released', async () => {
		const stored = await encrypt(plain);
		const received: Buffer[] = [];
		const decryptor = new DecryptStream({ keyForSalt: async () => key });
		decryptor.on('data', (part: Buffer) => received.push(part));
		const failure = new Promise((resolve) => decryptor.on('error', resolve));
		decryptor.end(flip(Buffer.from(stored), chunkAt(1) + 3));
		expect(await failure).toBeInstanceOf(IntegrityError);
		expect(Buffer.concat(received).equals(plain.subarray(0, CHUNK))).toBe(true);
	});
});

function flip(buffer: Buffer, at: number): Buffer {
	buffer[at] = buffer[at]! ^ 0x01;
	return buffer;
}

/**
 * Derivation v2, computed independently with Python's hashlib.scrypt and an RFC 5869 HKDF
 * written from the spec, for passphrase "ocean-velvet-gravy-amulet", no SERVER_SECRET (and,
 * for `lookupIdWithSecret`, SERVER_SECRET "a-server-secret-of-length"), file salt 16 x 0x03.
 */
const FIXED = {
	lookupId: '173f8f2ec64d1fa63991c70637414891',
	metaKey: 'a6115e9b96b2178550c08db170a698ddffe94e28cc4d2f384fc43d630a6ebeda',
	fileKey: '86052fb5eace80161677e1d9d78d7379dc553dfd3e7a5cceccb1dd8853613e15',
	lookupIdWithSecret: 'a097a8adacb5fcc6bd26670cae66f422'
};
