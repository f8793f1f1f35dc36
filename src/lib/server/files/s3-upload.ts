/**
 * One upload to S3 as a Writable: the bytes written are copied once into part-sized buffers,
 * each full one is sent as an UploadPart, and the same few buffers are used again for the
 * parts after it. At most `queueSize` parts are in flight and one fills: a writer waits (the
 * stream's backpressure) while all are busy, so an upload holds (queueSize + 1) parts of
 * memory whatever its size, and allocates no new buffer once its first parts are sent.
 *
 * Why not lib-storage's Upload: its chunker for a stream body gathers the incoming chunks and
 * concatenates them into a fresh buffer for every part (and a part-sized chunk fed to it is
 * concatenated with the next one into a buffer of two parts), so a 1 GiB upload allocates
 * 1 GiB of part buffers plus the chunks they were made of, all garbage for V8 to find later:
 * README, "Performance", has the figures.
 *
 * A file no larger than one part is a single PutObject. Otherwise the multipart upload is
 * created when the first part is full, and completed at the end of the stream; the object
 * exists only then. On any failure (a part refused, the stream destroyed by its writer) the
 * parts in flight are cancelled, the multipart upload is aborted, and only then does `done`
 * reject, so nothing is left once it settles.
 */
import { Writable } from 'node:stream';
import {
	AbortMultipartUploadCommand,
	CompleteMultipartUploadCommand,
	CreateMultipartUploadCommand,
	PutObjectCommand,
	UploadPartCommand,
	type ChecksumAlgorithm,
	type CompletedPart,
	type S3Client
} from '@aws-sdk/client-s3';

/**
 * The first part's buffer starts this small, then grows to SECOND_BUFFER, then to a whole
 * part: most files are small, and should not take a part of memory each.
 */
const FIRST_BUFFER = 64 * 1024;
const SECOND_BUFFER = 1024 * 1024;

export type PartUploadOptions = {
	client: S3Client;
	bucket: string;
	key: string;
	/** bytes of every part but the last */
	partSize: number;
	/** parts sent at once */
	queueSize: number;
	/** the checksum the multipart upload is created with (S3_CHECKSUMS=when_supported) */
	checksumAlgorithm?: ChecksumAlgorithm;
};

export class PartUpload extends Writable {
	/** Settles once the object is stored, or once a failed upload is aborted (rejects). */
	readonly done: Promise<void>;
	readonly #options: PartUploadOptions;
	/** Cancels the parts in flight when the upload fails. */
	readonly #abort = new AbortController();
	#resolve!: () => void;
	#reject!: (error: unknown) => void;
	/** The buffer being filled, and how many of its bytes are. */
	#filling: Buffer | undefined;
	#filled = 0;
	/** Part-sized buffers whose part has been sent: the next parts fill them. */
	#spare: Buffer[] = [];
	#partNumber = 0;
	#uploadId: Promise<string> | undefined;
	readonly #inFlight = new Set<Promise<void>>();
	readonly #parts: CompletedPart[] = [];
	#failure: unknown;
	/** The call that makes the object (PutObject or CompleteMultipartUpload), once sent. */
	#storing: Promise<unknown> | undefined;
	#stored = false;
	#cleaning = false;

	constructor(options: PartUploadOptions) {
		super();
		this.#options = options;
		this.done = new Promise<void>((resolve, reject) => {
			this.#resolve = resolve;
			this.#reject = reject;
		});
		// Whoever awaits `done` sees the failure; it must not also count as unhandled.
		this.done.catch(() => undefined);
	}

	override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error) => void) {
		this.#take(chunk).then(() => callback(), callback);
	}

	override _final(callback: (error?: Error) => void) {
		this.#store().then(() => callback(), callback);
	}

	override _destroy(error: Error | null, callback: (error?: Error | null) => void) {
		// Also called after a successful end (autoDestroy): then there is nothing to undo.
		if (!this.#stored) void this.#cleanUp(error ?? new Error('The upload was closed early'));
		callback(error);
	}

	/** Copy `chunk` into the parts, sending each one that fills up. */
	async #take(chunk: Buffer): Promise<void> {
		const { partSize } = this.#options;
		let offset = 0;
		while (offset < chunk.length) {
			this.#throwIfFailed();
			// A full part is sent only once a byte beyond it arrives: the last part of the
			// file is never sent here, so the end decides between PutObject and the multipart.
			if (this.#filled === partSize) await this.#sendFilling();
			const buffer = this.#room();
			const copied = chunk.copy(buffer, this.#filled, offset);
			this.#filled += copied;
			offset += copied;
		}
	}

	/** The buffer to fill, with room in it: a spare one, a new one, or the first one grown. */
	#room(): Buffer {
		const { partSize } = this.#options;
		let buffer = this.#filling;
		if (!buffer) {
			buffer =
				this.#spare.pop() ??
				Buffer.allocUnsafe(this.#partNumber === 0 ? Math.min(FIRST_BUFFER, partSize) : partSize);
		} else if (this.#filled === buffer.length) {
			// Two steps, not doubling: each smaller buffer left behind is garbage, and the
			// steps of a doubling would add up to another part.
			const grown = Buffer.allocUnsafe(buffer.length < SECOND_BUFFER ? SECOND_BUFFER : partSize);
			buffer.copy(grown, 0, 0, this.#filled);
			buffer = grown;
		}
		this.#filling = buffer;
		return buffer;
	}

	/** Send the full buffer as the next part, once fewer than queueSize parts are in flight. */
	async #sendFilling(): Promise<void> {
		while (this.#inFlight.size >= this.#options.queueSize) {
			await Promise.race(this.#inFlight);
		}
		this.#throwIfFailed();
		const buffer = this.#filling;
		if (!buffer) return;
		const length = this.#filled;
		this.#filling = undefined;
		this.#filled = 0;
		const partNumber = ++this.#partNumber;
		const sent = this.#sendPart(partNumber, buffer.subarray(0, length))
			.catch((error: unknown) => {
				// A part the store refused (after the SDK's retries): the whole upload fails, and
				// the writer with it, so that the pipeline feeding it rejects.
				this.destroy(error instanceof Error ? error : new Error(String(error)));
			})
			.finally(() => {
				this.#inFlight.delete(sent);
				// Sent or cancelled: the SDK holds it no more, the next part may fill it.
				if (buffer.length === this.#options.partSize && !this.#failure) this.#spare.push(buffer);
			});
		this.#inFlight.add(sent);
	}

	async #sendPart(partNumber: number, body: Buffer): Promise<void> {
		const { client, bucket, key } = this.#options;
		const uploadId = await (this.#uploadId ??= this.#create());
		this.#throwIfFailed();
		const result = await client.send(
			new UploadPartCommand({
				Bucket: bucket,
				Key: key,
				UploadId: uploadId,
				PartNumber: partNumber,
				Body: body,
				ContentLength: body.length
			}),
			{ abortSignal: this.#abort.signal }
		);
		if (!result.ETag) throw new Error(`Part ${partNumber} was answered without an ETag`);
		this.#parts.push({
			PartNumber: partNumber,
			ETag: result.ETag,
			ChecksumCRC32: result.ChecksumCRC32,
			ChecksumCRC32C: result.ChecksumCRC32C,
			ChecksumCRC64NVME: result.ChecksumCRC64NVME,
			ChecksumSHA1: result.ChecksumSHA1,
			ChecksumSHA256: result.ChecksumSHA256
		});
	}

	async #create(): Promise<string> {
		const { client, bucket, key, checksumAlgorithm } = this.#options;
		// Not cancellable: a multipart upload created after all would be one nobody knows of.
		const created = await client.send(
			new CreateMultipartUploadCommand({
				Bucket: bucket,
				Key: key,
				ContentType: 'application/octet-stream',
				ChecksumAlgorithm: checksumAlgorithm
			})
		);
		if (!created.UploadId) throw new Error('CreateMultipartUpload was answered without an id');
		return created.UploadId;
	}

	/** The end of the stream: store the object (one PutObject, or the last part and Complete). */
	async #store(): Promise<void> {
		const { client, bucket, key } = this.#options;
		this.#throwIfFailed();
		let storing: () => Promise<unknown>;
		if (this.#partNumber === 0) {
			const body = this.#filling?.subarray(0, this.#filled) ?? Buffer.alloc(0);
			storing = () =>
				client.send(
					new PutObjectCommand({
						Bucket: bucket,
						Key: key,
						Body: body,
						ContentLength: body.length,
						ContentType: 'application/octet-stream'
					})
				);
		} else {
			await this.#sendFilling();
			while (this.#inFlight.size > 0) await Promise.race(this.#inFlight);
			const uploadId = await this.#uploadId;
			const parts = [...this.#parts].sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
			storing = () =>
				client.send(
					new CompleteMultipartUploadCommand({
						Bucket: bucket,
						Key: key,
						UploadId: uploadId,
						MultipartUpload: { Parts: parts }
					})
				);
		}
		// Checked and sent in one step: a failure either came first and stops this, or comes
		// after and finds #storing to wait for (#cleanUp).
		this.#throwIfFailed();
		this.#storing = storing();
		await this.#storing;
		this.#stored = true;
		this.#release();
		this.#resolve();
	}

	/**
	 * After a failure or an early close: cancel the parts in flight, wait for them, abort the
	 * multipart upload, and only then reject `done`. If the object was already being made, wait
	 * for that instead: once made, it stays, and `done` resolves (the caller deletes it).
	 */
	async #cleanUp(error: unknown): Promise<void> {
		if (this.#cleaning) return;
		this.#cleaning = true;
		this.#failure ??= error;
		if (this.#storing) {
			try {
				await this.#storing;
				this.#stored = true;
				this.#release();
				this.#resolve();
				return;
			} catch (storeError) {
				this.#failure = storeError;
			}
		}
		this.#abort.abort();
		await Promise.allSettled(this.#inFlight);
		const uploadId = await this.#uploadId?.catch(() => undefined);
		if (uploadId) {
			const { client, bucket, key } = this.#options;
			// A failed abort leaves an unfinished upload that listTemp() shows to the sweeps.
			await client
				.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
				.catch(() => undefined);
		}
		this.#release();
		this.#reject(this.#failure);
	}

	#throwIfFailed(): void {
		if (this.#failure !== undefined) throw this.#failure;
	}

	/** Let the part buffers go as soon as the upload is over, not when the request is. */
	#release(): void {
		this.#filling = undefined;
		this.#spare = [];
	}
}
