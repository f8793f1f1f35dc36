/**
 * Receiving an upload: multipart (busboy) -> size guard, MIME sniff and SHA-256 in one pass
 * -> RZF1 encryption -> the storage's temp file (TEMP_PATH/<id>.part, or a multipart upload
 * on S3). Constant memory whatever the file size; the caller commits (fsync + rename, or the
 * upload's completion) or what was written is removed. Expected refusals are
 * thrown as RefusalErrors (they arise inside the streams) and returned as values by drops.ts.
 */
import Busboy from 'busboy';
import { createHash } from 'node:crypto';
import type { ErrorCode } from '../errors';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MULTIPART_HEADROOM_BYTES, type Config } from './config';
import { encryptNewFile, type FileKeyForSalt } from './crypto/file-format';
import { isStorageFull, type FileStorage, type TempFile } from './files';
import { formatBytes } from '../format';
import { CONTENTS, EXPIRY_MINUTES, USES, type ContentsEntry, type DropKind } from '../drop-bounds';
import { parseContents, parseKind, settleKind } from './drop-contents';
import { sanitizeFilename } from './filename';
import { refuse, refusalError, RefusalError, type Refusal } from './refusal';
import { isAllowedType, sniffMimeType, SNIFF_BYTES } from './sniff';

/** What receiving an upload depends on. */
export type UploadContext = {
	config: Pick<Config, 'maxFileSize' | 'bodySizeLimit' | 'allowedMimeTypes' | 'minFreeDiskMb'>;
	files: FileStorage;
};

function tooLarge(maxFileSize: number): RefusalError {
	return refusalError(
		'FILE_TOO_LARGE',
		`The file is larger than this server accepts (${formatBytes(maxFileSize)}).`
	);
}

export type UploadRequest = {
	/**
	 * The body: behind server/index.js the Node request itself (http/upload-body.ts), else
	 * the Request's web stream.
	 */
	body: Readable | ReadableStream<Uint8Array> | null;
	contentType: string | null;
	contentLength: number | undefined;
};

/**
 * Refusals that need no byte of the body: not multipart, a declared length already over the
 * limit, or too little free disk. Resolves undefined when the upload may start.
 */
export async function checkBeforeReading(
	request: UploadRequest,
	{ config, files }: UploadContext
): Promise<Refusal | undefined> {
	if (!request.contentType?.toLowerCase().startsWith('multipart/form-data') || !request.body) {
		return refuse('NOT_MULTIPART');
	}
	if (
		request.contentLength !== undefined &&
		request.contentLength > config.maxFileSize + MULTIPART_HEADROOM_BYTES
	) {
		return tooLarge(config.maxFileSize).refusal;
	}
	// An object store has no free space to tell (undefined): MIN_FREE_DISK_MB is for disks.
	const space = await files.space();
	if (space && space.freeBytes < config.minFreeDiskMb * 1024 * 1024) {
		return refuse('INSUFFICIENT_STORAGE');
	}
	return undefined;
}

/**
 * Called with the file bytes received so far, before they go on; a promise when it must wait
 * (the quotas take more from the store), which rejects with a RefusalError to stop the upload.
 */
export type ByteMeter = (received: number) => Promise<void> | undefined;

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
	readonly #meter: ByteMeter | undefined;

	constructor(maxSize: number, allowed: readonly string[], meter?: ByteMeter) {
		super();
		this.#maxSize = maxSize;
		this.#allowed = allowed;
		this.#meter = meter;
	}

	get sha256(): string {
		return this.#hash.digest('hex');
	}

	override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
		this.size += chunk.length;
		if (this.size > this.#maxSize) return done(tooLarge(this.#maxSize));
		// The quotas (quotas.ts) cover these bytes before they go on: a promise means the meter
		// is taking more from the store, and a rejection stops the upload.
		const metering = this.#meter?.(this.size);
		if (metering) metering.then(() => this.#take(chunk, done), done);
		else this.#take(chunk, done);
	}

	#take(chunk: Buffer, done: TransformCallback): void {
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
			throw refusalError(
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
	/** What the drop holds (the `kind` field; `archive` when `contents` came). */
	kind: DropKind;
	/** The files of an archive (the `contents` field), sanitised. */
	contents: ContentsEntry[] | undefined;
	/** fsync and rename the encrypted part into STORAGE_PATH. */
	commit(): Promise<void>;
};

/**
 * Read the multipart body: exactly one file in the field `file`, and optional `expiry`
 * (minutes, 1-60), `uses` (1-5), `kind` and `contents` (drop-contents.ts) fields before or
 * after it. The file is encrypted under
 * the key `keyForSalt` gives into TEMP_PATH/<id>.part while it arrives.
 * @throws RefusalError for anything the client can fix; the part is removed on any failure.
 */
export async function receiveUpload(
	request: UploadRequest & { id: string; keyForSalt: FileKeyForSalt; meter?: ByteMeter },
	{ config, files }: UploadContext
): Promise<ReceivedUpload> {
	const temp = files.createTemp(request.id);
	try {
		const received = await parseMultipart(request, config, async (stream) => {
			const inspector = new Inspector(config.maxFileSize, config.allowedMimeTypes, request.meter);
			const encrypt = await encryptNewFile(request.keyForSalt);
			return pipeline(stream, inspector, encrypt, temp.stream).then(() => inspector);
		});
		return { ...received, commit: () => commitOrDiscard(temp) };
	} catch (error) {
		await temp.discard();
		if (isStorageFull(error)) throw diskFull();
		throw error;
	}
}

const diskFull = () => refusalError('DISK_FULL');

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
		throw isStorageFull(error) ? diskFull() : error;
	}
}

type FileSink = (stream: Readable) => Promise<Inspector>;

/** The longest value of a field other than `contents` (the seed's limit). */
const FIELD_BYTES = 1024;

function parseMultipart(
	request: UploadRequest,
	{ maxFileSize, bodySizeLimit }: UploadContext['config'],
	storeFile: FileSink
): Promise<Omit<ReceivedUpload, 'commit'>> {
	return new Promise((resolve, reject) => {
		let busboy: Busboy.Busboy;
		try {
			busboy = Busboy({
				headers: { 'content-type': request.contentType! },
				defParamCharset: 'utf8',
				// busboy stops one byte past the limit; the Inspector is what refuses (413).
				// Fields are held in memory up to fieldSize: the `contents` list needs up to 64 KiB;
				// every other field is refused past FIELD_BYTES below, as before.
				limits: {
					files: 1,
					fileSize: maxFileSize + 1,
					fields: 10,
					// busboy calls a value truncated once it reaches the limit, not past it: one byte
					// more, so that a list of exactly CONTENTS.maxBytes is accepted.
					fieldSize: CONTENTS.maxBytes + 1,
					parts: 12
				}
			});
		} catch {
			reject(refusalError('MALFORMED_MULTIPART', 'The multipart body has no boundary.'));
			return;
		}
		const body = request.body!;
		const source =
			body instanceof Readable
				? body
				: Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>);
		let settled = false;
		let expiryMinutes: number = EXPIRY_MINUTES.default;
		let uses: number = USES.default;
		let kind: DropKind | undefined;
		let contents: ContentsEntry[] | undefined;
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
		const bad = (code: ErrorCode, detail?: string) => fail(refusalError(code, detail));

		// busboy reports `name=""` as an undefined name.
		const isUnnamed = (name: string | undefined) => name === undefined || name === '';

		busboy.on('field', (name, value, info) => {
			if (isUnnamed(name)) return bad('EMPTY_FIELD_NAME');
			if (name === 'contents') {
				if (info.valueTruncated) {
					return bad(
						'INVALID_CONTENTS',
						`contents is longer than ${CONTENTS.maxBytes / 1024} KiB.`
					);
				}
				contents = parseContents(value);
				if (contents === undefined) return bad('INVALID_CONTENTS');
				if (settleKind(kind, contents) === undefined) return bad('INVALID_CONTENTS');
				return;
			}
			if (info.nameTruncated || info.valueTruncated || Buffer.byteLength(value) > FIELD_BYTES)
				return bad('FIELD_TOO_LONG', `The field "${name.slice(0, 40)}" is too long.`);
			if (name === 'kind') {
				kind = parseKind(value);
				if (kind === undefined) return bad('INVALID_KIND');
				if (settleKind(kind, contents) === undefined) return bad('INVALID_CONTENTS');
			} else if (name === 'expiry') {
				const parsed = parseBounded(value, EXPIRY_MINUTES);
				if (parsed === undefined) return bad('INVALID_EXPIRY');
				expiryMinutes = parsed;
			} else if (name === 'uses') {
				const parsed = parseBounded(value, USES);
				if (parsed === undefined) return bad('INVALID_USES');
				uses = parsed;
			} else if (name === 'file') {
				return bad('MISSING_FILE', 'The field "file" must carry a file, not text.');
			}
			// Other fields are ignored, as the seed did.
		});

		busboy.on('file', (name, stream, info) => {
			// A body cut short makes busboy emit 'error' on the part's stream too, and the sink
			// listens only once its file key is derived (an await): an 'error' nobody hears
			// would end the process. busboy reports the same failure on itself (handled below
			// as MALFORMED_MULTIPART) and the sink's pipeline sees the stream destroyed.
			stream.on('error', () => undefined);
			if (name !== 'file' || storing) {
				stream.resume();
				if (storing) return bad('MULTIPLE_FILES');
				if (isUnnamed(name)) return bad('EMPTY_FIELD_NAME');
				return bad('UNEXPECTED_FILE_FIELD');
			}
			filename = info.filename ?? '';
			storing = storeFile(stream);
			storing.catch(fail);
		});

		busboy.on('filesLimit', () => bad('MULTIPLE_FILES'));
		busboy.on('fieldsLimit', () => bad('TOO_MANY_FIELDS'));
		busboy.on('partsLimit', () => bad('TOO_MANY_FIELDS', 'The form has too many parts.'));
		busboy.on('error', () => bad('MALFORMED_MULTIPART'));
		busboy.on('close', () => {
			if (!storing) return bad('MISSING_FILE');
			storing.then((inspector) => {
				if (settled) return;
				settled = true;
				resolve({
					filename: sanitizeFilename(filename),
					size: inspector.size,
					mimeType: inspector.mimeType,
					sha256: inspector.sha256,
					expiryMinutes,
					uses,
					// Both fields were checked together as each arrived.
					kind: settleKind(kind, contents) ?? 'file',
					contents
				});
			}, fail);
		});

		source.on('error', (error: Error & { status?: number }) => {
			// adapter-node's own body limit (a 413 SvelteKitError) or the client went away.
			fail(error.status === 413 ? tooLarge(maxFileSize) : refusalError('UPLOAD_INTERRUPTED'));
		});
		// BODY_SIZE_LIMIT over the whole body, whichever way it came: adapter-node counts the
		// web stream's bytes, but not a Node request handed over to us, and busboy reads and
		// discards any amount of text around the parts.
		let bodyBytes = 0;
		source.on('data', (chunk: Buffer) => {
			bodyBytes += chunk.length;
			if (bodyBytes > bodySizeLimit) fail(tooLarge(maxFileSize));
		});
		source.pipe(busboy);
	});
}
