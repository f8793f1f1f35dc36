/**
 * A stored drop on its way out: RZF1 decryption -> whole-file SHA-256 check -> a web stream
 * for the Response. Any failure errors the stream, which aborts the HTTP response
 * mid-transfer (the client sees a broken download, never wrong bytes).
 */
import { createHash } from 'node:crypto';
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import type { Logger } from 'pino';
import { DecryptStream, IntegrityError, type FileKeyForSalt } from './crypto/file-format';

/**
 * Hash everything that passes and hold the last piece back until the whole-file SHA-256
 * matches the one recorded at upload, so a mismatch means the client never gets the end.
 */
class VerifySha256 extends Transform {
	readonly #hash = createHash('sha256');
	readonly #expected: string;
	#held: Buffer | undefined;

	constructor(expected: string) {
		super();
		this.#expected = expected;
	}

	override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
		this.#hash.update(chunk);
		const previous = this.#held;
		this.#held = chunk;
		done(null, previous);
	}

	override _flush(done: TransformCallback): void {
		if (this.#hash.digest('hex') !== this.#expected) {
			done(new IntegrityError('SHA-256 of the decrypted file does not match the upload'));
			return;
		}
		done(null, this.#held);
	}
}

export type DecryptedDownload = {
	source: Readable;
	keyForSalt: FileKeyForSalt;
	expectedSha256: string;
	/**
	 * Called once the stream has ended (`completed`: the whole file passed the SHA-256 check),
	 * failed or been cancelled by the client, with the plaintext bytes sent.
	 */
	onDone: (result: { completed: boolean; bytes: number }) => void;
	log: Logger;
};

/**
 * The plaintext of a stored file as a web stream, verified while it flows. An integrity
 * failure is logged as INTEGRITY_CHECK_FAILED.
 */
export function decryptedStream({
	source,
	keyForSalt,
	expectedSha256,
	onDone,
	log
}: DecryptedDownload): ReadableStream<Uint8Array> {
	const output = pipeline(
		source,
		new DecryptStream({ keyForSalt }),
		new VerifySha256(expectedSha256),
		(error) => {
			if (error instanceof IntegrityError) {
				log.error({ event: 'INTEGRITY_CHECK_FAILED', part: 'file', error: error.message });
			}
		}
	);
	const iterator = output[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
	let bytes = 0;
	return new ReadableStream<Uint8Array>(
		{
			async pull(controller) {
				try {
					const { value, done } = await iterator.next();
					if (done) {
						controller.close();
						onDone({ completed: true, bytes });
					} else {
						bytes += value.byteLength;
						controller.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
					}
				} catch (error) {
					controller.error(error);
					onDone({ completed: false, bytes });
				}
			},
			async cancel() {
				// The client went away: stop reading the file and let it be shredded if due.
				await iterator.return?.();
				source.destroy();
				onDone({ completed: false, bytes });
			}
		},
		{ highWaterMark: 0 }
	);
}
