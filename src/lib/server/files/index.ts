/**
 * Where the drops' encrypted files live: the `FileStorage` contract the uploads, downloads
 * and sweeps use, and the backend the configuration chooses (STORAGE_BACKEND):
 *   - `fs` (disk.ts): a folder on a file system. TEMP_PATH/<id>.part, renamed into
 *     STORAGE_PATH/<id>.rzf once complete; shredded in place, then unlinked.
 *   - `s3` (s3.ts): a bucket of an S3-compatible object store. S3_PREFIX<id>.rzf, written as
 *     one multipart upload that becomes an object only when it completes; deleted, never
 *     overwritten (object storage cannot overwrite in place: crypto-erasure is the guarantee).
 * Both pass the same contract tests (tests/integration/storage-contract.test.ts). Names are
 * lookup ids only (32 hex characters), never anything the user sent.
 */
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { DiskStorage } from './disk';

/** A file being written. Its stream takes the encrypted bytes; nothing is a drop until commit. */
export type TempFile = {
	stream: Writable;
	/**
	 * Make the written bytes the stored drop, whole or not at all: on disk fsync and rename, on
	 * S3 the multipart upload's completion. Call once the stream has finished.
	 */
	commit(): Promise<void>;
	/** Give up: remove what was written (the part, the multipart upload). Never throws. */
	discard(): Promise<void>;
};

/** A stored drop opened for reading; `size` is its encrypted size in bytes. */
export type StoredFile = { stream: Readable; size: number };

/** A stored file or a file being written, as a listing found it (for the sweeps). */
export type FileEntry = {
	/** The lookup id it belongs to; '' for a name that is not one of ours. */
	id: string;
	/** Where it is, for the backend that listed it: a path on disk, an object key on S3. */
	location: string;
	/** S3 only: the multipart upload an entry of listTemp() is. */
	uploadId?: string;
	/** When it was last written (S3: when the object or multipart upload was created). */
	modifiedAt: number;
	/** Bytes (0 for an S3 multipart upload in progress: the listing does not say). */
	size: number;
};

/** Free and total bytes where the drops are kept. */
export type StorageSpace = { freeBytes: number; sizeBytes: number };

export type StorageBackend = Config['storageBackend'];

/** The drops' files: what the uploads, downloads and sweeps need from any backend. */
export interface FileStorage {
	readonly kind: StorageBackend;
	/**
	 * At start-up: make the folders, or check the bucket (and apply the lifecycle backstop when
	 * S3_APPLY_LIFECYCLE allows). @throws when the storage cannot be used at all
	 */
	prepare(): Promise<void>;
	/** Whether files can be written and read now (the health check). Never throws. */
	isAvailable(): Promise<boolean>;
	/**
	 * Free and total bytes, when the backend has such a thing: a file system does; an object
	 * store does not tell (undefined), so MIN_FREE_DISK_MB and the disk gauges do not apply.
	 */
	space(): Promise<StorageSpace | undefined>;
	/** Start writing the file of drop `id`. */
	createTemp(id: string): TempFile;
	/** The stored file of drop `id` for reading; undefined when there is none. */
	openStored(id: string): Promise<StoredFile | undefined>;
	/**
	 * Remove the stored file of drop `id` (disk: shredded first); false when there was none.
	 */
	removeStored(id: string): Promise<boolean>;
	/**
	 * Remove an entry of listStored() or listTemp(); false when it was already gone (the sweeps
	 * count only a true). @throws when the entry's location is not the file of its id
	 */
	remove(entry: FileEntry): Promise<boolean>;
	/** Every stored file: disk, every file of STORAGE_PATH; S3, our keys under S3_PREFIX. */
	listStored(): Promise<FileEntry[]>;
	/** Every file being written (or left by a crash): parts in TEMP_PATH, multipart uploads. */
	listTemp(): Promise<FileEntry[]>;
	/** Let go of connections (shutdown). */
	close(): Promise<void>;
}

/** Whether an error means the storage (or the user's quota on it) is full. */
export function isStorageFull(error: unknown): boolean {
	const { code, name } = (error as (NodeJS.ErrnoException & { name?: string }) | undefined) ?? {};
	// ENOSPC, EDQUOT: a file system; QuotaExceeded: Ceph RGW's and others' bucket or user quota.
	return code === 'ENOSPC' || code === 'EDQUOT' || name === 'QuotaExceeded';
}

/**
 * The storage the configuration names. The S3 client is loaded only when it is used, so a
 * server on a folder does not pay for it (the AWS SDK is megabytes of modules).
 */
export async function openFileStorage(config: Config, log: Logger): Promise<FileStorage> {
	if (config.storageBackend === 's3') {
		const { S3Storage } = await import('./s3');
		return new S3Storage(config, log);
	}
	return new DiskStorage(config);
}

export { DiskStorage };
