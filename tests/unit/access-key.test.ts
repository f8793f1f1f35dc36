/**
 * Version-2 access keys (issue #11): the server's derivation against fixed vectors, the
 * worker's (@noble/hashes) against the same vectors, the base64url form, the page module's
 * normalisation, caching and worker handling (with a stand-in Worker), and the uniform draw.
 * The same derivation in a real Chromium worker: tests/e2e/access-key.spec.ts.
 */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import {
	deriveAccessKey,
	drawPassphrase,
	forgetAccessKeys,
	normalisePassphrase,
	rejectionLimit,
	uniformIndex
} from '../../src/lib/access-key';
import {
	computeAccessKey,
	type AccessKeyAnswer,
	type AccessKeyRequest
} from '../../src/lib/access-key.worker';
import {
	accessKeyFromPassphrase,
	decodeAccessKey,
	encodeAccessKey
} from '../../src/lib/server/crypto/access-key';
import { loadWordlist } from '../../src/lib/server/diceware';

/*
 * scrypt(normalised, "raven-zero/v2", N=2^14, r=8, p=1, 32 bytes), base64url. Computed once
 * with node:crypto's scryptSync and confirmed by @noble/hashes and hash-wasm in Chromium
 * (bench/browser-scrypt.js); node:crypto itself gives RFC 7914's N=16384 vector below. A change
 * here means every access key changes: a new derivation version, not a test update.
 */
const VECTORS = [
	['orbit-velvet-gravy-amulet', 'jrf3He8JEAkSB04X-mAppB_tytb07eUlXmNm9VuYVQw'],
	// Non-ASCII letters survive normalisation and are hashed as UTF-8 on both sides.
	['élan-strasse-straße-fire', 'niDLxdV3DajbQKHGQK9iXJnYX7HRKcA0l-2vwo9kk2Q']
] as const;

const list = loadWordlist(path.resolve(import.meta.dirname, '../../data/diceware_words.txt'));

describe('the access key derivation', () => {
	test.each(VECTORS)('the server derives %s to the fixed vector', async (normalised, expected) => {
		const key = await accessKeyFromPassphrase(normalised);
		expect(key).toHaveLength(32);
		expect(encodeAccessKey(key)).toBe(expected);
	});

	test.each(VECTORS)(
		"the worker's scrypt derives %s to the same vector",
		(normalised, expected) => {
			expect(computeAccessKey(normalised)).toBe(expected);
		}
	);

	test('node:crypto under it gives the RFC 7914 vector for N=16384, r=8, p=1', async () => {
		const { scrypt } = await import('node:crypto');
		const key = await new Promise<Buffer>((resolve, reject) =>
			scrypt('pleaseletmein', 'SodiumChloride', 64, { N: 16384, r: 8, p: 1 }, (error, out) =>
				error ? reject(error) : resolve(out)
			)
		);
		expect(key.toString('hex')).toBe(
			'7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2' +
				'd5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887'
		);
	});

	test.each([
		['  Orbit velvet—GRAVY amulet ', 'orbit-velvet-gravy-amulet'],
		['  Élan\tSTRASSE straße ﬁre ', 'élan-strasse-straße-fire'],
		['abacus.Velvet\n\ngravy-AMULET.', 'abacus-velvet-gravy-amulet']
	] as const)('the page normalises %j to %s', (input, normalised) => {
		expect(normalisePassphrase(input)).toBe(normalised);
	});

	test("the page's normalisation is the server's (Wordlist.check)", () => {
		const input = '  Abacus velvet—GRAVY amulet. ';
		const checked = list.check(input);
		expect(checked.ok).toBe(true);
		expect(checked.ok && checked.passphrase).toBe(normalisePassphrase(input));
	});
});

describe('encodeAccessKey and decodeAccessKey', () => {
	const key = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 11) % 256));

	test('round-trip exactly 32 bytes as 43 characters without padding', () => {
		const text = encodeAccessKey(key);
		expect(text).toMatch(/^[A-Za-z0-9_-]{43}$/);
		expect(decodeAccessKey(text)).toEqual(key);
		// A view into a larger buffer encodes only its own bytes.
		const inside = Buffer.concat([Buffer.alloc(5, 9), key, Buffer.alloc(3, 9)]).subarray(5, 37);
		expect(encodeAccessKey(new Uint8Array(inside))).toBe(text);
	});

	test.each([0, 16, 31, 33, 64])('encoding refuses %i bytes', (length) => {
		expect(() => encodeAccessKey(Buffer.alloc(length))).toThrow(RangeError);
	});

	const good = encodeAccessKey(key);
	test.each([
		['empty', ''],
		['42 characters (31 bytes)', good.slice(0, 42)],
		['44 characters', good + 'A'],
		['padding', good + '='],
		['standard base64 characters', '+' + good.slice(1)],
		['a slash', '/' + good.slice(1)],
		['whitespace', ` ${good.slice(1)}`],
		['a trailing newline', good + '\n'],
		['a last character with stray low bits', good.slice(0, 42) + 'B'],
		['33 bytes', Buffer.alloc(33).toString('base64url')],
		['hex', key.toString('hex')]
	])('decoding refuses %s', (_, text) => {
		expect(decodeAccessKey(text)).toBeUndefined();
	});
});

describe('the uniform draw', () => {
	const TWO_32 = 2 ** 32;

	test.each([1, 2, 3, 1000, 7772, 7776, 2 ** 31 + 1, TWO_32])(
		'rejectionLimit(%i) is the largest multiple of the size not above 2^32',
		(size) => {
			const limit = rejectionLimit(size);
			expect(limit % size).toBe(0);
			expect(limit).toBeLessThanOrEqual(TWO_32);
			expect(TWO_32 - limit).toBeLessThan(size);
		}
	);

	test.each([0, -1, 1.5, NaN, Infinity, TWO_32 + 1])('rejectionLimit refuses %s', (size) => {
		expect(() => rejectionLimit(size)).toThrow(RangeError);
	});

	test('values at or past the limit are drawn again; the one below it is kept', () => {
		const limit = rejectionLimit(7772);
		const values = [TWO_32 - 1, limit, limit - 1, 0];
		const next = vi.fn(() => values.shift()!);
		expect(uniformIndex(7772, next)).toBe(7771);
		expect(next).toHaveBeenCalledTimes(3);
	});

	test('below the limit every index has the same number of values', () => {
		// 2^31 + 1 items: the case where plain modulo would be most biased (index 0 twice as
		// likely). limit - 1 maps to the last index, 0 and limit / 2 both to 0, nothing past.
		const size = 2 ** 31 + 1;
		const limit = rejectionLimit(size);
		expect(limit).toBe(size);
		expect(uniformIndex(size, () => limit - 1)).toBe(size - 1);
		const values = [limit, TWO_32 - 1, 5];
		expect(uniformIndex(size, () => values.shift()!)).toBe(5);
	});

	test('drawPassphrase draws list words with crypto.getRandomValues, already normalised', () => {
		const spy = vi.spyOn(crypto, 'getRandomValues');
		const words = list.drawable;
		for (const count of [3, 4, 10]) {
			const passphrase = drawPassphrase(words, count);
			const drawn = passphrase.split('-');
			expect(drawn).toHaveLength(count);
			for (const word of drawn) expect(words).toContain(word);
			expect(normalisePassphrase(passphrase)).toBe(passphrase);
			expect(list.check(passphrase).ok).toBe(true);
		}
		expect(spy).toHaveBeenCalled();
		spy.mockRestore();
	});

	test('drawPassphrase spreads its draws over a small list', () => {
		const counts = new Map<string, number>();
		for (let i = 0; i < 300; i++) {
			for (const word of drawPassphrase(['alpha', 'beta', 'gamma'], 10).split('-')) {
				counts.set(word, (counts.get(word) ?? 0) + 1);
			}
		}
		// 3,000 draws, 1,000 expected each; 850 is more than 8 standard deviations out.
		for (const word of ['alpha', 'beta', 'gamma']) expect(counts.get(word)).toBeGreaterThan(850);
	});

	test.each([
		['too few words', ['alpha', 'beta'], 2],
		['too many words', ['alpha', 'beta'], 11],
		['a fractional count', ['alpha', 'beta'], 3.5],
		['an empty list', [], 4],
		['duplicates', ['alpha', 'beta', 'alpha'], 4],
		['a hyphenated word', ['alpha', 'yo-yo'], 4],
		['a capital', ['alpha', 'Beta'], 4],
		['a word NFKC changes', ['alpha', 'ﬁre'], 4]
	] as const)('drawPassphrase refuses %s', (_, words, count) => {
		expect(() => drawPassphrase(words, count)).toThrow(RangeError);
	});
});

/** Stands in for the browser's Worker: records requests, answers when told to. */
class FakeWorker {
	static started: FakeWorker[] = [];
	readonly requests: AccessKeyRequest[] = [];
	onmessage: ((event: MessageEvent<AccessKeyAnswer>) => void) | null = null;
	onerror: ((event: { preventDefault(): void }) => void) | null = null;
	onmessageerror: (() => void) | null = null;
	terminated = false;

	constructor(
		readonly url: URL,
		readonly options: WorkerOptions
	) {
		FakeWorker.started.push(this);
	}

	postMessage(request: AccessKeyRequest): void {
		this.requests.push(request);
	}

	terminate(): void {
		this.terminated = true;
	}

	answerAll(): void {
		for (const { id, normalised } of this.requests.splice(0)) {
			this.onmessage?.({ data: { id, ok: true, key: `key(${normalised})` } } as MessageEvent);
		}
	}
}

describe('deriveAccessKey', () => {
	beforeEach(() => {
		FakeWorker.started = [];
		vi.stubGlobal('Worker', FakeWorker);
	});
	afterEach(() => {
		forgetAccessKeys();
		vi.unstubAllGlobals();
	});

	test('starts one module worker and sends it the normalised passphrase only', async () => {
		const key = deriveAccessKey('  Orbit velvet—GRAVY amulet ');
		expect(FakeWorker.started).toHaveLength(1);
		const [worker] = FakeWorker.started;
		expect(worker!.options).toEqual({ type: 'module' });
		expect(worker!.url.pathname).toMatch(/access-key\.worker\.ts$/);
		expect(worker!.requests).toEqual([
			{ id: expect.any(Number), normalised: 'orbit-velvet-gravy-amulet' }
		]);
		worker!.answerAll();
		await expect(key).resolves.toBe('key(orbit-velvet-gravy-amulet)');
	});

	test('one derivation per normalised passphrase, however it is written; one worker for all', async () => {
		const first = deriveAccessKey('orbit-velvet-gravy-amulet');
		const again = deriveAccessKey('ORBIT velvet gravy amulet');
		const other = deriveAccessKey('abacus-velvet-gravy-amulet');
		expect(again).toBe(first);
		expect(FakeWorker.started).toHaveLength(1);
		expect(FakeWorker.started[0]!.requests.map(({ normalised }) => normalised)).toEqual([
			'orbit-velvet-gravy-amulet',
			'abacus-velvet-gravy-amulet'
		]);
		FakeWorker.started[0]!.answerAll();
		await expect(other).resolves.toBe('key(abacus-velvet-gravy-amulet)');
		// Answered keys stay cached.
		expect(deriveAccessKey('Orbit-Velvet-Gravy-Amulet')).toBe(first);
		expect(FakeWorker.started[0]!.requests).toEqual([]);
	});

	test('keeps only the few most recent keys', () => {
		const passphrases = ['a-b-c', 'a-b-d', 'a-b-e', 'a-b-f', 'a-b-g'];
		for (const passphrase of passphrases) void deriveAccessKey(passphrase);
		const worker = FakeWorker.started[0]!;
		worker.answerAll();
		void deriveAccessKey('a-b-g');
		expect(worker.requests).toEqual([]);
		void deriveAccessKey('a-b-c');
		expect(worker.requests.map(({ normalised }) => normalised)).toEqual(['a-b-c']);
	});

	test('a worker that fails rejects what waits, is replaced, and caches nothing', async () => {
		const key = deriveAccessKey('orbit-velvet-gravy-amulet');
		const broken = FakeWorker.started[0]!;
		const preventDefault = vi.fn();
		broken.onerror!({ preventDefault });
		await expect(key).rejects.toThrow('The access key worker failed to run');
		expect(preventDefault).toHaveBeenCalled();
		expect(broken.terminated).toBe(true);

		const retry = deriveAccessKey('orbit-velvet-gravy-amulet');
		expect(retry).not.toBe(key);
		expect(FakeWorker.started).toHaveLength(2);
		FakeWorker.started[1]!.answerAll();
		await expect(retry).resolves.toBe('key(orbit-velvet-gravy-amulet)');
	});

	test("a worker's own error answer rejects and is not cached", async () => {
		const key = deriveAccessKey('orbit-velvet-gravy-amulet');
		const worker = FakeWorker.started[0]!;
		const [{ id }] = worker.requests.splice(0) as [AccessKeyRequest];
		worker.onmessage!({ data: { id, ok: false, message: 'out of memory' } } as MessageEvent);
		await expect(key).rejects.toThrow('The access key could not be derived: out of memory');
		void deriveAccessKey('orbit-velvet-gravy-amulet');
		expect(worker.requests).toHaveLength(1);
	});

	test.each([
		['empty', ''],
		['only separators', ' -- . '],
		['longer than any passphrase the server accepts', 'abcdefghij-'.repeat(20)]
	])('refuses a passphrase that is %s, without starting a worker', async (_, input) => {
		await expect(deriveAccessKey(input)).rejects.toThrow(RangeError);
		expect(FakeWorker.started).toHaveLength(0);
	});

	test('without Web Workers (server rendering) it rejects instead of throwing', async () => {
		vi.unstubAllGlobals();
		expect(typeof Worker).toBe('undefined');
		await expect(deriveAccessKey('orbit-velvet-gravy-amulet')).rejects.toThrow(
			'Web Workers are not available here'
		);
		// and the failure was not cached
		vi.stubGlobal('Worker', FakeWorker);
		void deriveAccessKey('orbit-velvet-gravy-amulet');
		expect(FakeWorker.started).toHaveLength(1);
	});
});
