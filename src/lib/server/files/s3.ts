/**
 * The `s3` backend: the drops' files as objects of an S3-compatible store (AWS S3, Garage,
 * Ceph RGW, OpenStack Swift's s3api, ...). One object per drop, `S3_PREFIX<id>.rzf`, the same
 * RZF1 bytes as on disk; nothing else is written.
 *
 * - An upload streams into a multipart upload (s3-upload.ts), never holding more than three
 *   parts, always the same buffers. Its object exists only once the upload completes (`commit`); a failed upload is
 *   aborted, and one left by a crash is listed by listTemp() and aborted by the sweeps.
 * - Self-destruction is a DeleteObject. Object storage cannot overwrite in place, and we never
 *   pretend to: the guarantee is crypto-erasure (the file key exists only while a request
 *   that knows the passphrase runs). A bucket with versioning would keep the old version:
 *   use one without (README, "Scaling out").
 * - Only keys of our form under the prefix are listed and removed: a bucket may hold other
 *   objects, and they are never ours to judge.
 * Credentials come from the AWS SDK's default chain (AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY, AWS_PROFILE, a role, ...).
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import {
	AbortMultipartUploadCommand,
	DeleteObjectCommand,
	GetBucketLifecycleConfigurationCommand,
	GetObjectCommand,
	HeadBucketCommand,
	HeadObjectCommand,
	paginateListObjectsV2,
	PutBucketLifecycleConfigurationCommand,
	S3Client,
	ListMultipartUploadsCommand,
	type LifecycleRule,
	type S3ClientConfig
} from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { StartupError, type Config } from '../config';
import { encryptedSize } from '../crypto/file-format';
import type { FileEntry, FileStorage, StoredFile, TempFile } from './index';
import { PartUpload } from './s3-upload';

const ID = /^[0-9a-f]{32}$/;
const STORED_SUFFIX = '.rzf';

/** S3's limits on a multipart upload: at most 10,000 parts, each at least 5 MiB (but the last). */
export const MAX_PARTS = 10_000;
export const MIN_PART_SIZE = 5 * 1024 * 1024;

/**
 * Parts uploaded at once per upload. Each holds a part in memory, so one upload holds about
 * (QUEUE_SIZE + 1) parts: 15 MiB at the smallest part size. Two keep the link busy while the
 * next part fills; four (the SDK's Upload's default) would double the memory for little gain.
 */
const QUEUE_SIZE = 2;

/** How long the health check waits for the store before calling it unavailable. */
const HEALTH_TIMEOUT_MS = 2_000;

/**
 * The name of the lifecycle rule S3_APPLY_LIFECYCLE writes (README, "Scaling out"): other
 * rules of the bucket are kept, this one is replaced.
 */
export const LIFECYCLE_RULE_ID = 'raven-zero-backstop';

/**
 * The part size for files up to `maxFileSize`: the smallest S3 accepts, or larger when
 * 10,000 parts of it would not hold the largest encrypted file: the size of an upload is
 * known only at its end, so the part size has to fit the largest one allowed.
 */
export function partSizeFor(maxFileSize: number): number {
	return Math.max(MIN_PART_SIZE, Math.ceil(encryptedSize(maxFileSize) / MAX_PARTS));
}

/** The lifecycle backstop: objects under the prefix and unfinished uploads go after a day. */
export function lifecycleRule(prefix: string): LifecycleRule {
	return {
		ID: LIFECYCLE_RULE_ID,
		Status: 'Enabled',
		Filter: { Prefix: prefix },
		Expiration: { Days: 1 },
		AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }
	};
}

type S3Settings = Pick<
	Config,
	| 's3Endpoint'
	| 's3Bucket'
	| 's3Region'
	| 's3Prefix'
	| 's3ForcePathStyle'
	| 's3ApplyLifecycle'
	| 's3Checksums'
	| 'maxFileSize'
>;

/** The error's S3 name (`NoSuchKey`, `NotFound`, ...) or Node code, for decisions and logs. */
function errorName(error: unknown): string {
	const { name, code } = (error ?? {}) as { name?: string; code?: string };
	return code ?? name ?? 'Error';
}

function httpStatus(error: unknown): number | undefined {
	return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
		?.httpStatusCode;
}

/** The object or upload is not there (a missing bucket is no such answer: it is a fault). */
function isNotFound(error: unknown): boolean {
	const name = errorName(error);
	if (name === 'NoSuchBucket') return false;
	return httpStatus(error) === 404 || ['NoSuchKey', 'NotFound', 'NoSuchUpload'].includes(name);
}

export class S3Storage implements FileStorage {
	readonly kind = 's3';
	readonly #client: S3Client;
	readonly #bucket: string;
	readonly #prefix: string;
	readonly #partSize: number;
	readonly #settings: S3Settings;
	readonly #log: Logger;

	/**
	 * @param credentials the AWS SDK's default chain (environment, profile, role) unless given
	 *   (the contract tests give them)
	 */
	constructor(settings: S3Settings, log: Logger, credentials?: S3ClientConfig['credentials']) {
		if (!settings.s3Bucket) throw new StartupError('S3_BUCKET is required with STORAGE_BACKEND=s3');
		this.#settings = settings;
		this.#log = log;
		this.#bucket = settings.s3Bucket;
		this.#prefix = settings.s3Prefix;
		this.#partSize = partSizeFor(settings.maxFileSize);
		const checksums = settings.s3Checksums === 'when_required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED';
		// Keep-alive sockets, and more of them than the SDK's 50: a download holds its socket
		// for as long as its client takes to read, so 50 slow readers would make every other
		// transfer wait for a socket.
		const agent = { keepAlive: true, maxSockets: 1024 };
		this.#client = new S3Client({
			region: settings.s3Region,
			endpoint: settings.s3Endpoint,
			forcePathStyle: settings.s3ForcePathStyle,
			credentials,
			requestChecksumCalculation: checksums,
			responseChecksumValidation: checksums,
			requestHandler: {
				connectionTimeout: 5_000,
				httpAgent: new HttpAgent(agent),
				httpsAgent: new HttpsAgent(agent)
			}
		});
	}

	#key(id: string): string {
		// Defence in depth: ids come from HKDF output, but a key is only ever built from an id.
		if (!ID.test(id)) throw new Error('Not a lookup id');
		return this.#prefix + id + STORED_SUFFIX;
	}

	/** The lookup id of one of our keys; undefined for any other key. */
	#idOf(key: string | undefined): string | undefined {
		if (!key?.startsWith(this.#prefix) || !key.endsWith(STORED_SUFFIX)) return undefined;
		const id = key.slice(this.#prefix.length, -STORED_SUFFIX.length);
		return ID.test(id) ? id : undefined;
	}

	/**
	 * The bucket must answer: a missing bucket or refused credentials stop the start (a
	 * mistake in the configuration); a store that cannot be reached is logged and the service
	 * starts degraded, as with Redis. Then the lifecycle backstop, when allowed.
	 */
	async prepare(): Promise<void> {
		try {
			await this.#client.send(new HeadBucketCommand({ Bucket: this.#bucket }));
		} catch (error) {
			const status = httpStatus(error);
			if (status === 404 || status === 403 || status === 401) {
				throw new StartupError(
					`The bucket of S3_BUCKET cannot be used (${status === 404 ? 'it does not exist' : 'access refused: check the AWS credentials'})`
				);
			}
			if (errorName(error) === 'CredentialsProviderError') {
				throw new StartupError(
					'STORAGE_BACKEND=s3 found no AWS credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile or role)'
				);
			}
			this.#log.error({ event: 'storage_unavailable_at_start', error: errorName(error) });
			return;
		}
		if (this.#settings.s3ApplyLifecycle) await this.#applyLifecycle();
	}

	/**
	 * Add (or replace) our rule in the bucket's lifecycle configuration, keeping the others.
	 * Some stores refuse lifecycle configuration (Swift's s3api answers 400 MalformedXML): the
	 * refusal is logged and the service carries on, since the rule is only a backstop.
	 */
	async #applyLifecycle(): Promise<void> {
		try {
			let rules: LifecycleRule[] = [];
			try {
				const current = await this.#client.send(
					new GetBucketLifecycleConfigurationCommand({ Bucket: this.#bucket })
				);
				rules = current.Rules ?? [];
			} catch (error) {
				if (errorName(error) !== 'NoSuchLifecycleConfiguration') throw error;
			}
			const others = rules.filter((rule) => rule.ID !== LIFECYCLE_RULE_ID);
			await this.#client.send(
				new PutBucketLifecycleConfigurationCommand({
					Bucket: this.#bucket,
					LifecycleConfiguration: { Rules: [...others, lifecycleRule(this.#prefix)] }
				})
			);
			this.#log.info({ event: 'storage_lifecycle_applied', rule: LIFECYCLE_RULE_ID });
		} catch (error) {
			this.#log.warn({
				event: 'storage_lifecycle_refused',
				error: errorName(error),
				message:
					'The object store refused the lifecycle rule; drops are still deleted on burn and expiry by the service. Apply it by hand if the store supports it (README, "Scaling out").'
			});
		}
	}

	async isAvailable(): Promise<boolean> {
		try {
			await this.#client.send(new HeadBucketCommand({ Bucket: this.#bucket }), {
				abortSignal: AbortSignal.timeout(HEALTH_TIMEOUT_MS)
			});
			return true;
		} catch {
			return false;
		}
	}

	/** An object store does not tell how much room is left. */
	space(): Promise<undefined> {
		return Promise.resolve(undefined);
	}

	createTemp(id: string): TempFile {
		const key = this.#key(id);
		const upload = new PartUpload({
			client: this.#client,
			bucket: this.#bucket,
			key,
			partSize: this.#partSize,
			queueSize: QUEUE_SIZE,
			// As the SDK's own Upload does: with checksums when supported, the multipart upload
			// is created with CRC32, and each part carries its own.
			checksumAlgorithm: this.#settings.s3Checksums === 'when_required' ? undefined : 'CRC32'
		});
		let discarding: Promise<void> | undefined;
		return {
			stream: upload,
			commit: () => upload.done,
			// Destroying the writer cancels the parts in flight and aborts the multipart upload;
			// `done` settles only after that, so nothing is left once this resolves.
			discard: () =>
				(discarding ??= (async () => {
					upload.destroy(new Error('The upload was discarded'));
					const stored = await upload.done.then(
						() => true,
						() => false
					);
					// The stream had already ended (a refusal after the file part, such as a bad
					// field after it): the object may be complete. It is no drop: delete it.
					if (stored) {
						await this.#client
							.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: key }))
							.catch(() => undefined);
					}
				})())
		};
	}

	async openStored(id: string): Promise<StoredFile | undefined> {
		try {
			const object = await this.#client.send(
				new GetObjectCommand({ Bucket: this.#bucket, Key: this.#key(id) })
			);
			return { stream: object.Body as Readable, size: object.ContentLength ?? 0 };
		} catch (error) {
			if (isNotFound(error)) return undefined;
			throw error;
		}
	}

	/** Delete the object of a drop; false when there was none (a HEAD first: DELETE never says). */
	async removeStored(id: string): Promise<boolean> {
		const key = this.#key(id);
		try {
			await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: key }));
		} catch (error) {
			if (isNotFound(error)) return false;
			throw error;
		}
		await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: key }));
		return true;
	}

	/**
	 * Delete a listed object, or abort a listed multipart upload; false when it was already
	 * gone, as on disk, so that two sweeps (or two instances) removing the same object count
	 * it once. A DELETE of a missing key succeeds on S3, so an object is asked for first (one
	 * HEAD more per removal, as removeStored pays). Two removers that both pass the HEAD before
	 * either deletes can still both answer true: the window is one round trip, not a sweep.
	 * @throws when the entry's location is not the key of its id (never deletes another object)
	 */
	async remove(entry: FileEntry): Promise<boolean> {
		// Only ever the key built from the id, as every other path here: a listing mistake or a
		// forged entry cannot name another object (a key of another form, outside the prefix).
		const key = this.#key(entry.id);
		if (entry.location !== key) throw new Error('Not the object of this entry');
		if (entry.uploadId) return this.#abortUpload(key, entry.uploadId);
		return this.removeStored(entry.id);
	}

	async #abortUpload(key: string, uploadId: string): Promise<boolean> {
		try {
			await this.#client.send(
				new AbortMultipartUploadCommand({ Bucket: this.#bucket, Key: key, UploadId: uploadId })
			);
			return true;
		} catch (error) {
			if (isNotFound(error)) return false;
			throw error;
		}
	}

	async listStored(): Promise<FileEntry[]> {
		const entries: FileEntry[] = [];
		const pages = paginateListObjectsV2(
			{ client: this.#client },
			{ Bucket: this.#bucket, Prefix: this.#prefix }
		);
		for await (const page of pages) {
			for (const object of page.Contents ?? []) {
				const id = this.#idOf(object.Key);
				if (!id || !object.Key) continue;
				entries.push({
					id,
					location: object.Key,
					modifiedAt: object.LastModified?.getTime() ?? 0,
					size: object.Size ?? 0
				});
			}
		}
		return entries;
	}

	/** Multipart uploads under the prefix not yet completed or aborted: in progress, or left. */
	async listTemp(): Promise<FileEntry[]> {
		const entries: FileEntry[] = [];
		let keyMarker: string | undefined;
		let uploadIdMarker: string | undefined;
		for (;;) {
			const page = await this.#client.send(
				new ListMultipartUploadsCommand({
					Bucket: this.#bucket,
					Prefix: this.#prefix,
					KeyMarker: keyMarker,
					UploadIdMarker: uploadIdMarker
				})
			);
			for (const upload of page.Uploads ?? []) {
				const id = this.#idOf(upload.Key);
				if (!id || !upload.Key || !upload.UploadId) continue;
				entries.push({
					id,
					location: upload.Key,
					uploadId: upload.UploadId,
					modifiedAt: upload.Initiated?.getTime() ?? 0,
					size: 0
				});
			}
			if (!page.IsTruncated) return entries;
			keyMarker = page.NextKeyMarker;
			uploadIdMarker = page.NextUploadIdMarker;
		}
	}

	close(): Promise<void> {
		this.#client.destroy();
		return Promise.resolve();
	}
}
