/**
 * Passphrase -> keys. The server keeps no key: everything below is recomputed from the
 * passphrase on every request that knows it, and only `lookupId` is ever stored.
 *
 *   master    = scrypt(passphrase, "raven-zero/v1" + SERVER_SECRET, N=2^14, r=8, p=1, 32 bytes)
 *   lookupId  = HKDF-SHA256(master, info "raven-zero/v1/lookup")    16 bytes, hex
 *   metaKey   = HKDF-SHA256(master, info "raven-zero/v1/metadata")  32 bytes
 *   fileKey   = HKDF-SHA256(master, salt = file salt, info "raven-zero/v1/file")  32 bytes
 *
 * N=2^14 costs about 38 ms and 16 MiB on our 2-core machines: it keeps a download of a small
 * file near the seed's 100 ms while a guess at a 4-word passphrase still costs an offline
 * attacker about 10^15 scrypt calls (see README, "Security model").
 */
import {
	createCipheriv,
	createDecipheriv,
	hkdf,
	randomBytes,
	scrypt,
	type ScryptOptions
} from 'node:crypto';
import { availableParallelism } from 'node:os';
import pLimit from 'p-limit';

export const SCRYPT_PARAMS = Object.freeze({ N: 2 ** 14, r: 8, p: 1, keyLength: 32 });
const SALT_PREFIX = 'raven-zero/v1';
const INFO = {
	lookup: 'raven-zero/v1/lookup',
	metadata: 'raven-zero/v1/metadata',
	file: 'raven-zero/v1/file'
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
	Math.min(availableParallelism(), (Number(process.env.UV_THREADPOOL_SIZE) || 4) - 1)
);
const kdfSlots = pLimit(KDF_CONCURRENCY);

function scryptAsync(password: string, salt: string, options: ScryptOptions): Promise<Buffer> {
	return new Promise((resolve, reject) =>
		scrypt(password, salt, SCRYPT_PARAMS.keyLength, options, (error, key) =>
			error ? reject(error) : resolve(key)
		)
	);
}

function hkdfAsync(key: Buffer, salt: Buffer, info: string, length: number): Promise<Buffer> {
	return new Promise((resolve, reject) =>
		hkdf('sha256', key, salt, info, length, (error, derived) =>
			error ? reject(error) : resolve(Buffer.from(derived))
		)
	);
}

/**
 * Derive a drop's keys from its normalised passphrase (as Wordlist.check returns it).
 * Runs scrypt on libuv's thread pool, never on the event loop, at most KDF_CONCURRENCY at once.
 */
export async function deriveKeys(passphrase: string, serverSecret?: string): Promise<DropKeys> {
	const { N, r, p } = SCRYPT_PARAMS;
	const master = await kdfSlots(() =>
		scryptAsync(passphrase, SALT_PREFIX + (serverSecret ?? ''), {
			N,
			r,
			p,
			maxmem: 64 * 1024 * 1024
		})
	);
	const empty = Buffer.alloc(0);
	const [lookup, metaKey] = await Promise.all([
		hkdfAsync(master, empty, INFO.lookup, 16),
		hkdfAsync(master, empty, INFO.metadata, 32)
	]);
	return { lookupId: lookup.toString('hex'), metaKey, master };
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
