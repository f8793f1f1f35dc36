/**
 * Passphrase -> keys, version 2. The server keeps no key: everything below is recomputed on
 * every request that names a drop, and only `lookupId` is ever stored.
 *
 *   access    = scrypt(passphrase, "raven-zero/v2", N=2^14, r=8, p=1, 32 bytes)   (access-key.ts)
 *   master    = HKDF-SHA256(access, salt = SERVER_SECRET or empty, info "raven-zero/v2/master")
 *   lookupId  = HKDF-SHA256(master, info "raven-zero/v2/lookup")    16 bytes, hex
 *   metaKey   = HKDF-SHA256(master, info "raven-zero/v2/metadata")  32 bytes
 *   fileKey   = HKDF-SHA256(master, salt = file salt, info "raven-zero/v2/file")  32 bytes
 *
 * Whoever knows the passphrase can compute `access`: the pages do, in a Web Worker, and send
 * only that (the passphrase never leaves the browser); the server computes it for curl and
 * the no-JavaScript forms. From `access` on, only cheap HKDF steps run here. SERVER_SECRET
 * keeps its promise: without it a stolen disk and Redis cannot even be guessed at; with it
 * unset, an offline guess still costs one full scrypt (see README, "Security model").
 */
import { createCipheriv, createDecipheriv, hkdf, randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import pLimit from 'p-limit';
import { getConfig } from '../config';
import { noMetrics, type KdfObserver } from '../metrics';

import { ACCESS_KEY_BYTES, ACCESS_KEY_SCRYPT } from '../../access-key-params';
import { accessKeyFromPassphrase } from './access-key';

export const SCRYPT_PARAMS = Object.freeze({ ...ACCESS_KEY_SCRYPT, keyLength: ACCESS_KEY_BYTES });
const INFO = {
	master: 'raven-zero/v2/master',
	lookup: 'raven-zero/v2/lookup',
	metadata: 'raven-zero/v2/metadata',
	file: 'raven-zero/v2/file'
} as const;

export type DropKeys = {
	/** The only name the store and the disk know a drop by: 32 hex characters. */
	lookupId: string;
	/** Seals the drop's metadata (file name, size, type, hash) in the store. */
	metaKey: Buffer;
	/** Input to the per-file key; never leaves this process. */
	master: Buffer;
};

/**
 * How many scrypt runs may be in flight at once: one per core, and always leaving one of
 * libuv's threads (4 unless UV_THREADPOOL_SIZE says otherwise) for the file reads and writes
 * that transfers wait on. More would buy no throughput, only 16 MiB of memory each and a
 * longer queue in front of every fsync.
 */
export const KDF_CONCURRENCY = Math.max(
	1,
	Math.min(availableParallelism(), getConfig().uvThreadpoolSize - 1)
);
const kdfSlots = pLimit(KDF_CONCURRENCY);

function hkdfAsync(key: Buffer, salt: Buffer, info: string, length: number): Promise<Buffer> {
	return new Promise((resolve, reject) =>
		hkdf('sha256', key, salt, info, length, (error, derived) =>
			error ? reject(error) : resolve(Buffer.from(derived))
		)
	);
}

/** The scrypt queue is full, or this request waited its longest: shed (503 SERVER_BUSY). */
export class KdfBusyError extends Error {
	override name = 'KdfBusyError';
}

/** How long passphrase requests may wait for a scrypt, by count and by time (config.ts). */
export type KdfQueueBounds = { queueLimit: number; maxWaitMs: number };

const UNBOUNDED: KdfQueueBounds = { queueLimit: Infinity, maxWaitMs: Infinity };

/** Requests waiting for a slot now (those that gave up are no longer counted), and running. */
let waiting = 0;
let running = 0;

/**
 * The access key of a normalised passphrase (as Wordlist.check returns it): one scrypt on
 * libuv's thread pool, never on the event loop, at most KDF_CONCURRENCY at once. A flood of
 * passphrase requests must not make every one of them wait many seconds, so the wait is
 * bounded twice:
 *   - by count: past `queueLimit` waiting (KDF_QUEUE_LIMIT), a request is refused at once;
 *   - by time: one still waiting after `maxWaitMs` (KDF_MAX_WAIT_MS) gives up then, so an
 *     answer or a 503 always comes within that wait plus one scrypt, however slow the
 *     machine has become (a loaded machine runs each scrypt slower than the count assumed).
 * Its place in the queue is then left empty: the queued task does nothing when reached.
 * The observer (the metrics) is told only once the promise is settled, and a hook that
 * throws is ignored: counting must never hang, fail or crash the request it counts.
 * @throws KdfBusyError when shed
 */
export function accessForPassphrase(
	passphrase: string,
	{ queueLimit, maxWaitMs }: KdfQueueBounds = UNBOUNDED,
	observer: KdfObserver = noMetrics
): Promise<Buffer> {
	// Counted with the running ones: a burst that arrives in one tick has not started any yet.
	if (waiting + running >= queueLimit + KDF_CONCURRENCY) {
		const shed = Promise.reject(new KdfBusyError());
		tell(() => observer.kdfShed());
		return shed;
	}
	const queuedAt = performance.now();
	waiting++;
	return new Promise<Buffer>((resolve, reject) => {
		let gaveUp = false;
		const deadline =
			maxWaitMs === Infinity
				? undefined
				: setTimeout(() => {
						gaveUp = true;
						waiting--;
						reject(new KdfBusyError());
						// The longest waits of all: the wait histogram must count them too.
						tell(() => observer.kdfWaited((performance.now() - queuedAt) / 1000));
						tell(() => observer.kdfShed());
					}, maxWaitMs);
		void kdfSlots(async () => {
			if (gaveUp) return;
			clearTimeout(deadline);
			waiting--;
			running++;
			kdfRuns++;
			const startedAt = performance.now();
			try {
				resolve(await accessKeyFromPassphrase(passphrase));
			} catch (error) {
				reject(error instanceof Error ? error : new Error(String(error)));
			} finally {
				running--;
			}
			tell(() => observer.kdfWaited((startedAt - queuedAt) / 1000));
			tell(() => observer.kdfRan((performance.now() - startedAt) / 1000));
		});
	});
}

/** Call one observer hook; a hook that throws loses its sample, nothing else. */
function tell(hook: () => void): void {
	try {
		hook();
	} catch {
		// A metric is not worth a request: drop the sample.
	}
}

/** Passphrase requests waiting for a scrypt slot now (the metrics read it at scrape time). */
export function kdfQueueLength(): number {
	return waiting;
}

let kdfRuns = 0;

/** How many scrypt runs this process has started (tests; later the metrics). */
export function scryptRunCount(): number {
	return kdfRuns;
}

/** A drop's keys from its access key: HKDF only, no scrypt. */
export async function keysFromAccess(access: Buffer, serverSecret?: string): Promise<DropKeys> {
	const master = await hkdfAsync(access, Buffer.from(serverSecret ?? '', 'utf8'), INFO.master, 32);
	const empty = Buffer.alloc(0);
	const [lookup, metaKey] = await Promise.all([
		hkdfAsync(master, empty, INFO.lookup, 16),
		hkdfAsync(master, empty, INFO.metadata, 32)
	]);
	return { lookupId: lookup.toString('hex'), metaKey, master };
}

/** A drop's keys from its normalised passphrase: accessForPassphrase, then keysFromAccess (tests). */
export async function deriveKeys(passphrase: string, serverSecret?: string): Promise<DropKeys> {
	return keysFromAccess(await accessForPassphrase(passphrase), serverSecret);
}

/** The key of one stored file, bound to the random salt in its header. */
export function deriveFileKey(master: Buffer, salt: Buffer): Promise<Buffer> {
	return hkdfAsync(master, salt, INFO.file, 32);
}

const META_VERSION = 'v1';

/**
 * Seal a drop's metadata with AES-256-GCM under `metaKey`, bound to its lookup id (so a blob
 * copied under another id does not open). Output: `v1.<nonce>.<ciphertext>.<tag>`, base64url.
 */
export function sealMetadata(metaKey: Buffer, lookupId: string, value: unknown): string {
	const nonce = randomBytes(12);
	const cipher = createCipheriv('aes-256-gcm', metaKey, nonce);
	cipher.setAAD(Buffer.from(lookupId));
	const sealed = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
	return [META_VERSION, nonce, sealed, cipher.getAuthTag()]
		.map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
		.join('.');
}

/** Open what sealMetadata sealed. @throws when the key, the id or the blob does not match. */
export function openMetadata<T>(metaKey: Buffer, lookupId: string, blob: string): T {
	const [version, nonce, sealed, tag] = blob.split('.');
	if (version !== META_VERSION || !nonce || sealed === undefined || !tag) {
		throw new Error('Unknown metadata format');
	}
	const decipher = createDecipheriv('aes-256-gcm', metaKey, Buffer.from(nonce, 'base64url'));
	decipher.setAAD(Buffer.from(lookupId));
	decipher.setAuthTag(Buffer.from(tag, 'base64url'));
	const plain = Buffer.concat([
		decipher.update(Buffer.from(sealed, 'base64url')),
		decipher.final()
	]);
	return JSON.parse(plain.toString('utf8')) as T;
}
