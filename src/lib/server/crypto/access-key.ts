/**
 * The version-2 access key on the server (issue #11): the same bytes the pages compute in
 * their worker (src/lib/access-key.ts), for the requests that bring a passphrase instead (curl,
 * the seed's GET paths, the no-JavaScript forms), and the base64url form in which pages send
 * it. Pure functions: no queue, no logging; the caller bounds how many scrypts run at once.
 *
 *   access = scrypt(normalised passphrase, "raven-zero/v2", N=2^14, r=8, p=1, 32 bytes)
 */
import { scrypt } from 'node:crypto';
import { ACCESS_KEY_BYTES, ACCESS_KEY_SALT, ACCESS_KEY_SCRYPT } from '../../access-key-params';

const { N, r, p } = ACCESS_KEY_SCRYPT;
/** scrypt needs 128 * N * r bytes (16 MiB); Node refuses past `maxmem`, so name it. */
const MAX_MEMORY = 2 * 128 * N * r;

/**
 * The access key of a passphrase already normalised (as Wordlist.check returns it). Runs on
 * libuv's thread pool through the async scrypt, never on the event loop.
 * @throws (rejects) only if Node cannot run scrypt (memory).
 */
export function accessKeyFromPassphrase(normalised: string): Promise<Buffer> {
	return new Promise((resolve, reject) =>
		scrypt(
			normalised,
			ACCESS_KEY_SALT,
			ACCESS_KEY_BYTES,
			{ N, r, p, maxmem: MAX_MEMORY },
			(error, key) => (error ? reject(error) : resolve(key))
		)
	);
}

/** base64url without padding, as the pages send it. @throws RangeError unless 32 bytes. */
export function encodeAccessKey(key: Uint8Array): string {
	if (key.length !== ACCESS_KEY_BYTES) {
		throw new RangeError(`An access key is ${ACCESS_KEY_BYTES} bytes, not ${key.length}`);
	}
	return Buffer.from(key.buffer, key.byteOffset, key.length).toString('base64url');
}

/** Exactly 43 base64url characters, the last carrying 4 bits (so 2 zero bits: A, E, I, ... w). */
const ENCODED = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/**
 * The 32 bytes of an access key a client sent, or undefined for anything else: wrong length,
 * padding, characters outside base64url (Node's decoder would skip them silently), or a last
 * character with stray low bits (another spelling of the same key, so refused as well).
 */
export function decodeAccessKey(text: string): Buffer | undefined {
	if (!ENCODED.test(text)) return undefined;
	return Buffer.from(text, 'base64url');
}
