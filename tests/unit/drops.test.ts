/**
 * The use cases without a server: createDrops built from the in-process store, a temporary
 * folder and the real word list, as services.ts builds it for the process. Fast (no build, no
 * redis-server, no HTTP); the integration suite checks the same through the built server.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { parseConfig } from '../../src/lib/server/config';
import { accessKeyFromPassphrase, encodeAccessKey } from '../../src/lib/server/crypto/access-key';
import { scryptRunCount } from '../../src/lib/server/crypto/keys';
import { loadWordlist } from '../../src/lib/server/diceware';
import { MALFORMED_LIMIT } from '../../src/lib/server/limits';
import type { Outcome } from '../../src/lib/server/refusal';
import { buildServices, type Services } from '../../src/lib/server/services';
import { MemoryStore } from '../../src/lib/server/store/memory';
import { multipart, type Part } from '../helpers/http';

const ROOT = path.resolve(import.meta.dirname, '../..');
const WORDS = loadWordlist(path.join(ROOT, 'data/diceware_words.txt'));
const CLIENT = '192.0.2.10';

let dir: string;
let services: Services;

function build(env: Record<string, string> = {}): Services {
	const config = parseConfig(
		{ STORAGE_PATH: 'stored', TEMP_PATH: 'temp', DOWNLOAD_FAIL_LIMIT: '3', ...env },
		dir
	);
	return buildServices({
		config,
		log: pino({ level: 'silent' }),
		store: new MemoryStore(),
		words: WORDS
	});
}

beforeEach(() => {
	dir = mkdtempSync(path.join(tmpdir(), 'raven-drops-'));
	// DiskStorage expects its folders; start-up makes them (hooks.server.ts: files.prepare()).
	for (const sub of ['stored', 'temp']) mkdirSync(path.join(dir, sub));
	services = build();
});

afterEach(async () => {
	await services.store.close();
	rmSync(dir, { recursive: true, force: true });
});

function bodyOf(parts: Part[]) {
	const { body, contentType } = multipart(parts);
	return {
		body: new Blob([new Uint8Array(body)]).stream(),
		contentType,
		contentLength: body.length,
		address: '127.0.0.1'
	};
}

function sendFile(data: string | Buffer, fields: Record<string, string> = {}) {
	return services.drops.create(
		bodyOf([
			...Object.entries(fields).map(([name, value]) => ({ name, data: value })),
			{ name: 'file', filename: 'notes.txt', data, contentType: 'text/plain' }
		])
	);
}

function expectOk<T>(outcome: Outcome<T>): asserts outcome is { ok: true } & T {
	if (!outcome.ok) throw new Error(`refused: ${outcome.code} ${outcome.detail ?? ''}`);
}

const filesIn = (sub: string) => readdirSync(path.join(dir, sub));

describe('a drop from upload to its last download', () => {
	test('is stored encrypted under a new passphrase, shows its status, and burns after its uses', async () => {
		const created = await sendFile('hello, raven', { uses: '2' });
		expectOk(created);
		expect(created.passphrase).toMatch(/^[a-z]+(-[a-z]+){3}$/);
		expect(created.metadata).toMatchObject({ filename: 'notes.txt', size: 12, uses: 2 });
		expect(filesIn('stored')).toHaveLength(1);
		expect(filesIn('temp')).toEqual([]);

		const status = await services.drops.status(created.passphrase, CLIENT);
		expectOk(status);
		expect(status).toMatchObject({ status: 'active', remainingUses: 2 });

		for (const left of [1, 0]) {
			const download = await services.drops.download(created.passphrase, CLIENT);
			expectOk(download);
			expect(download.remainingUses).toBe(left);
			expect(await new Response(download.body).text()).toBe('hello, raven');
		}
		await services.transfers.settle(2000);
		expect(filesIn('stored')).toEqual([]);
		const after = await services.drops.status(created.passphrase, CLIENT);
		expectOk(after);
		expect(after.status).toBe('burned');
		const again = await services.drops.download(created.passphrase, CLIENT);
		expect(again).toMatchObject({ ok: false, code: 'ALREADY_DOWNLOADED' });
	});

	test('the preview is seen once', async () => {
		const created = await sendFile('x');
		expectOk(created);
		expect((await services.drops.preview(created.passphrase, CLIENT)).ok).toBe(true);
		expect(await services.drops.preview(created.passphrase, CLIENT)).toMatchObject({
			ok: false,
			code: 'PREVIEW_ALREADY_SEEN'
		});
	});
});

describe('refusals are values with a code of the catalogue', () => {
	test('a file over MAX_FILE_SIZE is FILE_TOO_LARGE and leaves nothing behind', async () => {
		await services.store.close();
		services = build({ MAX_FILE_SIZE: '1000' });
		const refused = await sendFile(Buffer.alloc(5000), {});
		expect(refused).toMatchObject({ ok: false, code: 'FILE_TOO_LARGE' });
		expect(filesIn('stored')).toEqual([]);
		expect(filesIn('temp')).toEqual([]);
	});

	test('a body that is not multipart is NOT_MULTIPART', async () => {
		const refused = await services.drops.create({
			body: new Blob(['x']).stream(),
			contentType: 'text/plain',
			contentLength: 1,
			address: '127.0.0.1'
		});
		expect(refused).toMatchObject({ ok: false, code: 'NOT_MULTIPART' });
	});

	test('words not in the list are INVALID_PASSPHRASE with suggestions, and no failure', async () => {
		const words = WORDS.generate(4).split('-');
		const typo = `${words[3]}q`;
		const refused = await services.drops.status([...words.slice(0, 3), typo].join('-'), CLIENT);
		expect(refused).toMatchObject({
			ok: false,
			code: 'INVALID_PASSPHRASE',
			unknownWords: [{ position: 3, word: typo }]
		});
		if (!refused.ok) expect(refused.unknownWords?.[0]?.suggestions).toContain(words[3]);
	});

	test('past the malformed limit a request costs one count: 429 at once, no suggestion looked for', async () => {
		const madeUp = [
			'velvte',
			'gravey',
			'amulte',
			'ocaen',
			'abacsu',
			'blorft',
			'zorbex',
			'quix',
			'plonk',
			'frimp'
		];
		for (const word of madeUp) expect(WORDS.has(word)).toBe(false);
		const suggest = vi.spyOn(WORDS, 'suggest');
		const scrypts = scryptRunCount();
		try {
			for (let i = 0; i < MALFORMED_LIMIT.points; i++) {
				const refused = await services.drops.status(madeUp.join('-'), CLIENT);
				expect(refused).toMatchObject({ ok: false, code: 'INVALID_PASSPHRASE' });
				// All ten named, suggestions for the first three only.
				if (!refused.ok) {
					expect(refused.unknownWords).toHaveLength(10);
					expect(refused.unknownWords?.filter((u) => u.suggestions.length > 0)).toHaveLength(3);
				}
			}
			expect(suggest).toHaveBeenCalledTimes(3 * MALFORMED_LIMIT.points);
			suggest.mockClear();
			const limited = await services.drops.status(madeUp.join('-'), CLIENT);
			expect(limited).toMatchObject({ ok: false, code: 'RATE_LIMITED' });
			if (!limited.ok) expect(limited.unknownWords).toBeUndefined();
			expect(suggest).not.toHaveBeenCalled();
			expect(scryptRunCount()).toBe(scrypts);
		} finally {
			suggest.mockRestore();
		}
	});

	test('unknown passphrases count toward the block, which then refuses with a wait', async () => {
		const guesses = [1, 2, 3].map(() => WORDS.generate(4));
		for (const guess of guesses) {
			expect(await services.drops.status(guess, CLIENT)).toMatchObject({
				ok: false,
				code: 'UNKNOWN_PASSPHRASE'
			});
		}
		const blocked = await services.drops.status(guesses[0]!, CLIENT);
		expect(blocked).toMatchObject({ ok: false, code: 'TOO_MANY_FAILED_LOOKUPS' });
		if (!blocked.ok) expect(blocked.retryAfterSeconds).toBeGreaterThan(60);
		// Another client is not blocked.
		expect(await services.drops.status(guesses[0]!, '192.0.2.11')).toMatchObject({
			code: 'UNKNOWN_PASSPHRASE'
		});
	});
});

describe('a drop named by its access key (what the pages send)', () => {
	const accessOf = async (passphrase: string) =>
		encodeAccessKey(await accessKeyFromPassphrase(passphrase));

	test('an upload with the sender’s access key runs no scrypt, and the passphrase opens it', async () => {
		const passphrase = WORDS.generate(4);
		const accessKey = await accessOf(passphrase);
		const before = scryptRunCount();
		const created = await services.drops.create({
			...bodyOf([{ name: 'file', filename: 'a.txt', data: 'by key', contentType: 'text/plain' }]),
			accessKey
		});
		expectOk(created);
		expect(created.passphrase).toBeNull();
		const status = await services.drops.status({ accessKey }, CLIENT);
		expectOk(status);
		expect(status).toMatchObject({ passphrase: null, status: 'active', remainingUses: 1 });
		expect(scryptRunCount()).toBe(before);

		// The same drop by passphrase (curl): the server derives the same access key.
		const download = await services.drops.download(passphrase, CLIENT);
		expectOk(download);
		expect(await new Response(download.body).text()).toBe('by key');
		expect(scryptRunCount()).toBe(before + 1);
	});

	test('an access key that already names a drop is DROP_EXISTS and leaves nothing behind', async () => {
		const accessKey = await accessOf(WORDS.generate(4));
		const send = () =>
			services.drops.create({
				...bodyOf([{ name: 'file', filename: 'a.txt', data: 'x', contentType: 'text/plain' }]),
				accessKey
			});
		expectOk(await send());
		expect(await send()).toMatchObject({ ok: false, code: 'DROP_EXISTS' });
		expect(filesIn('stored')).toHaveLength(1);
		expect(filesIn('temp')).toEqual([]);
	});

	test('a malformed access key is INVALID_ACCESS_KEY; an unknown one counts toward the block', async () => {
		for (const accessKey of [
			'',
			'abc',
			'A'.repeat(44),
			`${'A'.repeat(42)}B`,
			`${'A'.repeat(42)}=`
		]) {
			expect(await services.drops.status({ accessKey }, CLIENT)).toMatchObject({
				code: 'INVALID_ACCESS_KEY'
			});
		}
		for (let guess = 0; guess < 3; guess++) {
			const accessKey = await accessOf(WORDS.generate(4));
			expect(await services.drops.download({ accessKey }, CLIENT)).toMatchObject({
				code: 'UNKNOWN_PASSPHRASE'
			});
		}
		expect(await services.drops.status({ accessKey: 'A'.repeat(43) }, CLIENT)).toMatchObject({
			code: 'TOO_MANY_FAILED_LOOKUPS'
		});
	});
});
