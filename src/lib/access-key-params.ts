/**
 * The version-2 access key, as both sides compute it (issue #11, design.md "Passphrase and
 * keys"): `access = scrypt(normalised passphrase, "raven-zero/v2", N=2^14, r=8, p=1, 32 bytes)`.
 * The pages compute it in a Web Worker (./access-key.worker.ts); the server computes the same
 * bytes for curl and the no-JavaScript forms (src/lib/server/crypto/access-key.ts). Constants
 * only, with no dependency, so the server never pulls in the browser's scrypt library.
 */

/** A fixed, public salt: the access key must be computable from the passphrase alone. */
export const ACCESS_KEY_SALT = 'raven-zero/v2';

/**
 * N=2^14, r=8, p=1, as v1 had on the server: 16 MiB, and one derivation per passphrase in the
 * browser (its time in Chromium: bench/browser-scrypt.js). A change here is a new derivation
 * version: every access key changes.
 */
export const ACCESS_KEY_SCRYPT = Object.freeze({ N: 2 ** 14, r: 8, p: 1 });

/** Length of the access key in bytes (43 characters of base64url). */
export const ACCESS_KEY_BYTES = 32;

/** base64url without padding (RFC 4648 §5), in any JavaScript runtime. */
export function bytesToBase64url(bytes: Uint8Array): string {
	let binary = '';
	for (const byte of bytes) binary += String.fromCharCode(byte);
	return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
