/**
 * The stored file format, v1 ("RZF1"), as Node streams in constant memory.
 *
 *   header  = "RZF1" | chunk size (u32 BE) | file salt (16 bytes)          24 bytes
 *   chunk i = AES-256-GCM(fileKey, nonce_i, plaintext_i, aad = header) | tag (16 bytes)
 *   nonce_i = i as 11-byte big-endian | final flag (1 on the last chunk, else 0)
 *
 * Every chunk but the last holds exactly `chunkSize` plaintext bytes; the last holds 0 to
 * `chunkSize` and carries the final flag, so truncation (a dropped last chunk makes a
 * non-final chunk last), reordering (wrong counter), trailing bytes (wrong last length) and
 * any flipped bit all fail authentication. Decrypted bytes are released only after their
 * chunk's tag has verified: a reader never sees a byte that was not written by us.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

export const MAGIC = Buffer.from('RZF1', 'ascii');
export const HEADER_LENGTH = 24;
export const SALT_LENGTH = 16;
export const TAG_LENGTH = 16;
export const DEFAULT_CHUNK_SIZE = 65_536;
export const MIN_CHUNK_SIZE = 1024;
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;

/** The stored file failed authentication: tampered, truncated, reordered or the wrong key. */
export class IntegrityError extends Error {
	override name = 'IntegrityError';
}

export function encodeHeader(chunkSize: number, salt: Buffer): Buffer {
	if (salt.length !== SALT_LENGTH) throw new Error('The file salt must be 16 bytes');
	if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
		throw new Error(`Chunk size must be ${MIN_CHUNK_SIZE}..${MAX_CHUNK_SIZE} bytes`);
	}
	const header = Buffer.alloc(HEADER_LENGTH);
	MAGIC.copy(header, 0);
	header.writeUInt32BE(chunkSize, 4);
	salt.copy(header, 8);
	return header;
}

export function decodeHeader(header: Buffer): { chunkSize: number; salt: Buffer } {
	if (header.length !== HEADER_LENGTH || !header.subarray(0, 4).equals(MAGIC)) {
		throw new IntegrityError('Not a Raven Zero file (bad magic)');
	}
	const chunkSize = header.readUInt32BE(4);
	if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
		throw new IntegrityError('Not a Raven Zero file (bad chunk size)');
	}
	return { chunkSize, salt: Buffer.from(header.subarray(8, 8 + SALT_LENGTH)) };
}

function nonceFor(counter: number, final: boolean): Buffer {
	const nonce = Buffer.alloc(12);
	nonce.writeUIntBE(counter, 5, 6); // bytes 0-10 are the counter; 2^48 chunks is plenty
	nonce[11] = final ? 1 : 0;
	return nonce;
}

/** The stored size of `plainSize` bytes: header plus one tag per chunk (at least one chunk). */
export function encryptedSize(plainSize: number, chunkSize = DEFAULT_CHUNK_SIZE): number {
	const chunks = Math.max(1, Math.ceil(plainSize / chunkSize));
	return HEADER_LENGTH + plainSize + chunks * TAG_LENGTH;
}

/**
 * A FIFO of buffers that hands out exact byte counts without copying when it can.
 * Both directions need "take exactly N bytes, once more than N are waiting".
 */
class ByteQueue {
	#parts: Buffer[] = [];
	length = 0;

	push(part: Buffer): void {
		if (part.length === 0) return;
		this.#parts.push(part);
		this.length += part.length;
	}

	/** Remove and return the first `count` bytes as a list of slices (no copies). */
	take(count: number): Buffer[] {
		const out: Buffer[] = [];
		let needed = count;
		while (needed > 0) {
			const head = this.#parts[0]!;
			if (head.length <= needed) {
				out.push(head);
				this.#parts.shift();
				needed -= head.length;
			} else {
				out.push(head.subarray(0, needed));
				this.#parts[0] = head.subarray(needed);
				needed = 0;
			}
		}
		this.length -= count;
		return out;
	}

	takeAll(): Buffer[] {
		return this.take(this.length);
	}
}

export type EncryptOptions = { key: Buffer; salt: Buffer; chunkSize?: number };

/** The file key for a file salt (HKDF from the drop's master key: see keys.ts). */
export type FileKeyForSalt = (salt: Buffer) => Promise<Buffer>;

/**
 * An EncryptStream for a new file: the format draws the file's salt and asks for its key, as
 * DecryptStream reads the salt from the header and asks for the key.
 */
export async function encryptNewFile(
	keyForSalt: FileKeyForSalt,
	chunkSize = DEFAULT_CHUNK_SIZE
): Promise<EncryptStream> {
	const salt = randomBytes(SALT_LENGTH);
	return new EncryptStream({ key: await keyForSalt(salt), salt, chunkSize });
}

/** Plaintext in, RZF1 out. The header is written first, even for an empty file. */
export class EncryptStream extends Transform {
	readonly #key: Buffer;
	readonly #header: Buffer;
	readonly #chunkSize: number;
	readonly #queue = new ByteQueue();
	#counter = 0;

	constructor({ key, salt, chunkSize = DEFAULT_CHUNK_SIZE }: EncryptOptions) {
		super({ readableHighWaterMark: chunkSize * 2, writableHighWaterMark: chunkSize * 2 });
		this.#key = key;
		this.#chunkSize = chunkSize;
		this.#header = encodeHeader(chunkSize, salt);
		this.push(this.#header);
	}

	#seal(parts: Buffer[], final: boolean): void {
		const cipher = createCipheriv('aes-256-gcm', this.#key, nonceFor(this.#counter++, final));
		cipher.setAAD(this.#header);
		for (const part of parts) this.push(cipher.update(part));
		const rest = cipher.final();
		if (rest.length > 0) this.push(rest);
		this.push(cipher.getAuthTag());
	}

	override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
		this.#queue.push(chunk);
		// Strictly more than a chunk: the last chunk is sealed in _flush with the final flag.
		while (this.#queue.length > this.#chunkSize)
			this.#seal(this.#queue.take(this.#chunkSize), false);
		done();
	}

	override _flush(done: TransformCallback): void {
		this.#seal(this.#queue.takeAll(), true);
		done();
	}
}

export type DecryptOptions = {
	/** The file key for the salt found in the header (derivation is async: HKDF). */
	keyForSalt: FileKeyForSalt;
};

/** RZF1 in, plaintext out; errors with IntegrityError on the first chunk that fails. */
export class DecryptStream extends Transform {
	readonly #keyForSalt: DecryptOptions['keyForSalt'];
	readonly #queue = new ByteQueue();
	#header: Buffer | undefined;
	#key: Buffer | undefined;
	#chunkSize = 0;
	#counter = 0;

	constructor({ keyForSalt }: DecryptOptions) {
		super();
		this.#keyForSalt = keyForSalt;
	}

	#open(parts: Buffer[], final: boolean): Buffer {
		const sealed = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
		const body = sealed.subarray(0, sealed.length - TAG_LENGTH);
		const decipher = createDecipheriv('aes-256-gcm', this.#key!, nonceFor(this.#counter++, final));
		decipher.setAAD(this.#header!);
		decipher.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH));
		const plain = decipher.update(body);
		try {
			const rest = decipher.final();
			return rest.length > 0 ? Buffer.concat([plain, rest]) : plain;
		} catch {
			throw new IntegrityError(`Chunk ${this.#counter - 1} failed authentication`);
		}
	}

	async #readHeader(): Promise<void> {
		const header = Buffer.concat(this.#queue.take(HEADER_LENGTH));
		const { chunkSize, salt } = decodeHeader(header);
		this.#header = header;
		this.#chunkSize = chunkSize;
		this.#key = await this.#keyForSalt(salt);
	}

	override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
		this.#queue.push(chunk);
		this.#drain(false).then(() => done(), done);
	}

	override _flush(done: TransformCallback): void {
		this.#drain(true).then(() => done(), done);
	}

	async #drain(ending: boolean): Promise<void> {
		if (!this.#header) {
			if (this.#queue.length < HEADER_LENGTH) {
				if (ending) throw new IntegrityError('Truncated file (no header)');
				return;
			}
			await this.#readHeader();
		}
		const sealedChunk = this.#chunkSize + TAG_LENGTH;
		// A full chunk followed by more bytes cannot be the last one.
		while (this.#queue.length > sealedChunk)
			this.push(this.#open(this.#queue.take(sealedChunk), false));
		if (ending) {
			if (this.#queue.length < TAG_LENGTH)
				throw new IntegrityError('Truncated file (no last chunk)');
			const last = this.#open(this.#queue.takeAll(), true);
			if (last.length > 0) this.push(last);
		}
	}
}
