/**
 * Version-2 access keys (issue #11): the server's derivation against fixed vectors, and the
 * base64url form in which the pages will send the key.
 */
import { describe, expect, test } from 'vitest';
import {
	accessKeyFromPassphrase,
	decodeAccessKey,
	encodeAccessKey
} from '../../src/lib/server/crypto/access-key';

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

describe('the access key derivation', () => {
	test.each(VECTORS)('the server derives %s to the fixed vector', async (normalised, expected) => {
		const key = await accessKeyFromPassphrase(normalised);
		expect(key).toHaveLength(32);
		expect(encodeAccessKey(key)).toBe(expected);
	});

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
