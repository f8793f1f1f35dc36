/**
 * The access key's scrypt, off the page's main thread (started by ./access-key.ts). One
 * request in, one answer out, matched by `id`; the worker keeps no passphrase between them.
 *
 * @noble/hashes rather than hash-wasm: hash-wasm was faster in Chromium's worker, but not
 * clearly: by the renderer's CPU time 1.3-1.45 x for a warm scrypt and about 1.5 x for the
 * first key (wall-time ratios wandered from 1.15 to 1.8 x with the shared cores' load;
 * bench/browser-scrypt.js). That is 30-90 ms more per passphrase here, once per page: short of
 * what would justify `'wasm-unsafe-eval'` in the pages' script-src, which any WASM library
 * needs. noble is plain JavaScript, audited, and its worker bundle is half the size.
 */
import { scrypt } from '@noble/hashes/scrypt.js';
import {
	ACCESS_KEY_BYTES,
	ACCESS_KEY_SALT,
	ACCESS_KEY_SCRYPT,
	bytesToBase64url
} from './access-key-params';

export type AccessKeyRequest = { id: number; normalised: string };
export type AccessKeyAnswer =
	{ id: number; ok: true; key: string } | { id: number; ok: false; message: string };

/** The access key of an already normalised passphrase, base64url: what the worker answers. */
export function computeAccessKey(normalised: string): string {
	const { N, r, p } = ACCESS_KEY_SCRYPT;
	// The synchronous form: in a worker, blocking is the point, and noble's async form only
	// adds pauses for an event loop that has nothing else to do.
	return bytesToBase64url(
		scrypt(normalised, ACCESS_KEY_SALT, { N, r, p, dkLen: ACCESS_KEY_BYTES })
	);
}

/** The part of DedicatedWorkerGlobalScope used here (the project's types are the DOM's). */
type WorkerScope = {
	onmessage: ((event: MessageEvent<AccessKeyRequest>) => void) | null;
	postMessage(message: AccessKeyAnswer): void;
};

// Only inside a worker: the unit tests import this module in Node to check computeAccessKey.
if ('WorkerGlobalScope' in globalThis) {
	const scope = globalThis as unknown as WorkerScope;
	scope.onmessage = ({ data: { id, normalised } }) => {
		try {
			scope.postMessage({ id, ok: true, key: computeAccessKey(normalised) });
		} catch (error) {
			scope.postMessage({ id, ok: false, message: String(error) });
		}
	};
}
