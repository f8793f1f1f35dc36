/**
 * Receiving an upload: multipart (busboy) -> size guard, MIME sniff and SHA-256 in one pass
 * -> RZF1 encryption -> TEMP_PATH/<id>.part. Constant memory whatever the file size; the
 * caller commits (fsync + rename) or the part is removed. Expected refusals are UploadErrors
 * carrying their HTTP status and error code.
 */
import Busboy from 'busboy';
import { createHash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { getConfig, MULTIPART_HEADROOM_BYTES } from './config';
import { EncryptStream } from './crypto/file-format';
import { createTempFile, freeBytes, isDiskFull, type TempFile } from './files';
import { formatBytes } from '../format';
import { sanitizeFilename } from './filename';
import { isAllowedType, sniffMimeType, SNIFF_BYTES } from './sniff';

export class UploadError extends Error {
	override name = 'UploadError';
	constructor(
		readonly status: number,
		readonly code: string,
		detail: string,
		readonly headers?: Record<string, string>
	) {
		super(detail);
	}
}

const EXPIRY = { min: 1, max: 60, default: 10 };
const USES = { min: 1, max: 5, default: 1 };

function tooLarge(): UploadError {
	const { maxFileSize } = getConfig();
	return new UploadError(
		413,
		'FILE_TOO_LARGE',
		`The file is larger than this server accepts (${formatBytes(maxFileSize)}).`
	);
}

export type UploadRequest = {
	body: ReadableStream<Uint8Array> | null;
	contentType: string | null;
	contentLength: number | undefined;
};

/**
 * Refusals that need no byte of the body: not multipart, a declared length already over the
 * limit, or too little free disk. Resolves undefined when the upload may start.
 */
export async function checkBeforeReading(request: UploadRequest): Promise<UploadError | undefined> {
	const config = getConfig();
	if (!request.contentType?.toLowerCase().startsWith('multipart/form-data') || !request.body) {
		return new UploadError(
			400,
			'NOT_MULTIPART',
			'Send the file as multipart/form-data in a field named "file" (curl -F file=@name).'
		);
	}
	if (
		request.contentLength !== undefined &&
		request.contentLength > config.maxFileSize + MULTIPART_HEADROOM_BYTES
	) {
		return tooLarge();
	}
	if ((await freeBytes()) < config.minFreeDiskMb * 1024 * 1024) {
		return new UploadError(
			507,
			'INSUFFICIENT_STORAGE',
			'The server is low on disk space. Try again later.'
		);
	}
	return undefined;
}

/**
 * One pass over the plaintext: counts bytes (413 the moment the limit is passed), sniffs the
 * type from the first bytes (415 when not allowed, before anything else passes), hashes.
 */
class Inspector extends Transform {
	size = 0;
	mimeType = 'application/octet-stream';
	readonly #hash = createHash('sha256');
	readonly #maxSize: number;
	readonly #allowed: readonly string[];
	#head: Buffer[] | undefined = [];
	#headBytes = 0;

	constructor(maxSize: number, allowed: readonly string[]) {
		super();
		this.#maxSize = maxSize;
		this.#allowed = allowed;
	}

	get sha256(): string {
		return this.#hash.digest('hex');
	}

	override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
		this.size += chunk.length;
		if (this.size > this.#maxSize) return done(tooLarge());
		this.#hash.update(chunk);
		if (!this.#head) return done(null, chunk);
		this.#head.push(chunk);
		this.#headBytes += chunk.length;
		if (this.#headBytes < SNIFF_BYTES) return done();
		this.#releaseHead(false).then(() => done(), done);
	}

	override _flush(done: TransformCallback): void {
		if (!this.#head) return done();
		this.#releaseHead(true).then(() => done(), done);
	}

	/** Sniff the buffered head, refuse a disallowed type, then let the head through. */
	async #releaseHead(isWholeFile: boolean): Promise<void> {
		const head = Buffer.concat(this.#head!);
		this.#head = undefined;
		this.mimeType = await sniffMimeType(head.subarray(0, SNIFF_BYTES), isWholeFile);
		if (!isAllowedType(this.mimeType, this.#allowed)) {
			throw new UploadError(
				415,
				'UNSUPPORTED_FILE_TYPE',
				`Files of type ${this.mimeType} are not accepted here. Allowed: ${this.#allowed.join(', ')}.`
			);
		}
		if (head.length > 0) this.push(head);
	}
}

function parseBounded(value: string, bounds: { min: number; max: number }): number | undefined {
	const trimmed = value.trim();
	if (!/^\d{1,4}$/.test(trimmed)) return undefined;
	const parsed = Number(trimmed);
	return parsed >= bounds.min && parsed <= bounds.max ? parsed : undefined;
}

export type ReceivedUpload = {
	filename: string;
	size: number;
	mimeType: string;
	sha256: string;
	expiryMinutes: number;
	uses: number;
	/** fsync and rename the encrypted part into STORAGE_PATH. */
	commit(): Promise<void>;
};

/**
 * Read the multipart body: exactly one file in the field `file`, and optional `expiry`
 * (minutes, 1-60) and `uses` (1-5) fields before or after it. The file is encrypted under
 * `fileKey` into TEMP_PATH/<id>.part while it arrives.
 * @throws UploadError for anything the client can fix; the part is removed on any failure.
 */
export async function receiveUpload(
	request: UploadRequest & { id: string; fileKey: Buffer; salt: Buffer }
): Promise<ReceivedUpload> {
	const config = getConfig();
	const temp = createTempFile(request.id);
	try {
		const received = await parseMultipart(request, (stream) => {
			const inspector = new Inspector(config.maxFileSize, config.allowedMimeTypes);
			const encrypt = new EncryptStream({ key: request.fileKey, salt: request.salt });
			return pipeline(stream, inspector, encrypt, temp.stream).then(() => inspector);
		});
		return { ...received, commit: () => commitOrDiscard(temp) };
	} catch (error) {
		await temp.discard();
		if (isDiskFull(error)) throw diskFull();
		throw error;
	}
}

function diskFull(): UploadError {
	return new UploadError(
		507,
		'DISK_FULL',
		'The server ran out of disk space while storing the file. Nothing was kept.'
	);
}

/**
 * fsync and rename the part. On file systems that allocate late (ext4, XFS) a full disk can
 * first show at the fsync: that is a 507 and the part is removed, not a 500 that leaves the
 * part behind until the orphan sweep.
 */
async function commitOrDiscard(temp: TempFile): Promise<void> {
	try {
		await temp.commit();
	} catch (error) {
		await temp.discard();
		throw isDiskFull(error) ? diskFull() : error;
	}
}

type FileSink = (stream: Readable) => Promise<Inspector>;

function parseMultipart(
	request: UploadRequest,
	storeFile: FileSink
): Promise<Omit<ReceivedUpload, 'commit'>> {
	const config = getConfig();
	return new Promise((resolve, reject) => {
		let busboy: Busboy.Busboy;
		try {
			busboy = Busboy({
				headers: { 'content-type': request.contentType! },
				defParamCharset: 'utf8',
				// busboy stops one byte past the limit; the Inspector is what refuses (413).
				limits: {
					files: 1,
					fileSize: config.maxFileSize + 1,
					fields: 10,
					fieldSize: 1024,
					parts: 12
				}
			});
		} catch {
			reject(new UploadError(400, 'MALFORMED_MULTIPART', 'The multipart body has no boundary.'));
			return;
		}
		const source = Readable.fromWeb(
			request.body! as import('node:stream/web').ReadableStream<Uint8Array>
		);
		let settled = false;
		let expiryMinutes = EXPIRY.default;
		let uses = USES.default;
		let filename = '';
		let storing: Promise<Inspector> | undefined;

		const fail = (error: unknown) => {
			if (settled) return;
			settled = true;
			// Stop reading the body but do not cancel it: cancelling destroys the socket before
			// our error response is sent. server/index.js closes the connection afterwards.
			source.unpipe(busboy);
			source.pause();
			busboy.removeAllListeners();
			busboy.on('error', () => undefined);
			reject(error);
		};
		const bad = (code: string, detail: string) => fail(new UploadError(400, code, detail));

		// busboy reports `name=""` as an undefined name.
		const isUnnamed = (name: string | undefined) => name === undefined || name === '';

		busboy.on('field', (name, value, info) => {
			if (isUnnamed(name)) return bad('EMPTY_FIELD_NAME', 'A form field has an empty name.');
			if (info.nameTruncated || info.valueTruncated)
				return bad('FIELD_TOO_LONG', `The field "${name.slice(0, 40)}" is too long.`);
			if (name === 'expiry') {
				const parsed = parseBounded(value, EXPIRY);
				if (parsed === undefined)
					return bad('INVALID_EXPIRY', 'expiry must be a whole number of minutes from 1 to 60.');
				expiryMinutes = parsed;
			} else if (name === 'uses') {
				const parsed = parseBounded(value, USES);
				if (parsed === undefined)
					return bad('INVALID_USES', 'uses must be a whole number from 1 to 5.');
				uses = parsed;
			} else if (name === 'file') {
				return bad('MISSING_FILE', 'The field "file" must carry a file, not text.');
			}
			// Other fields are ignored, as the seed did.
		});

		busboy.on('file', (name, stream, info) => {
			if (name !== 'file' || storing) {
				stream.resume();
				if (storing) return bad('MULTIPLE_FILES', 'Send one file per upload.');
				if (isUnnamed(name)) return bad('EMPTY_FIELD_NAME', 'A form field has an empty name.');
				return bad('UNEXPECTED_FILE_FIELD', 'Send the file in a field named "file".');
			}
			filename = info.filename ?? '';
			storing = storeFile(stream);
			storing.catch(fail);
		});

		busboy.on('filesLimit', () => bad('MULTIPLE_FILES', 'Send one file per upload.'));
		busboy.on('fieldsLimit', () => bad('TOO_MANY_FIELDS', 'The form has too many fields.'));
		busboy.on('partsLimit', () => bad('TOO_MANY_FIELDS', 'The form has too many parts.'));
		busboy.on('error', () =>
			bad('MALFORMED_MULTIPART', 'The multipart body is malformed or incomplete.')
		);
		busboy.on('close', () => {
			if (!storing) return bad('MISSING_FILE', 'No file was sent: use a field named "file".');
			storing.then((inspector) => {
				if (settled) return;
				settled = true;
				resolve({
					filename: sanitizeFilename(filename),
					size: inspector.size,
					mimeType: inspector.mimeType,
					sha256: inspector.sha256,
					expiryMinutes,
					uses
				});
			}, fail);
		});

		source.on('error', (error: Error & { status?: number }) => {
			// adapter-node's own body limit (a 413 SvelteKitError) or the client went away.
			fail(
				error.status === 413
					? tooLarge()
					: new UploadError(400, 'UPLOAD_INTERRUPTED', 'The upload was interrupted.')
			);
		});
		source.pipe(busboy);
	});
}
