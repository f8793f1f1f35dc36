/**
 * The `fs` backend: files on a file system. Names are lookup ids only (32 hex characters),
 * never anything the user sent:
 *   TEMP_PATH/<id>.part     an upload being written
 *   STORAGE_PATH/<id>.rzf   a stored drop (RZF1, see crypto/file-format.ts)
 * A part becomes a drop by fsync + rename, so a crash never leaves a half-written .rzf.
 */
import { randomBytes } from 'node:crypto';
import { constants, createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, open, readdir, rename, stat, statfs, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { FileEntry, FileStorage, StorageSpace, StoredFile, TempFile } from './index';

const ID = /^[0-9a-f]{32}$/;
const STORED_SUFFIX = '.rzf';
const TEMP_SUFFIX = '.part';
const SHRED_BLOCK = 64 * 1024;

function checkId(id: string): string {
	// Defence in depth: ids come from HKDF output, but a path is only ever built from an id.
	if (!ID.test(id)) throw new Error('Not a lookup id');
	return id;
}

/** Open `partPath` for writing (fails if it exists: `wx`); commit renames it to `finalPath`. */
function createTempFile(partPath: string, finalPath: string): TempFile {
	const stream = createWriteStream(partPath, {
		flags: 'wx',
		mode: 0o600,
		highWaterMark: 256 * 1024
	});
	// The open is asynchronous and pipeline() attaches its listener only when the file part
	// arrives: an open that fails first (EACCES, EMFILE, ENOSPC on inodes) would be an uncaught
	// 'error' and end the process. Keep the error on the stream; pipeline() then rejects with it.
	stream.on('error', () => undefined);
	return {
		stream,
		async commit() {
			const handle = await open(partPath, 'r+');
			try {
				await handle.sync();
			} finally {
				await handle.close();
			}
			await rename(partPath, finalPath);
		},
		async discard() {
			// The file is opened asynchronously. An upload refused within moments (a bad field,
			// a truncated body) used to unlink before the open had created it, and the open then
			// left an empty part behind (found by tests/resilience/bad-input.test.ts). Wait until
			// the stream has closed its descriptor, which follows the open, then unlink.
			const closed = new Promise<void>((resolve) => {
				if (stream.closed) resolve();
				else stream.once('close', () => resolve());
			});
			stream.destroy();
			await closed;
			await unlink(partPath).catch(() => undefined);
		}
	};
}

/** A read stream over a file, with its size; undefined when the file is missing. */
async function openFile(filePath: string): Promise<StoredFile | undefined> {
	try {
		const { size } = await stat(filePath);
		return { stream: createReadStream(filePath, { highWaterMark: 256 * 1024 }), size };
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
		throw error;
	}
}

/**
 * Overwrite a file with random bytes `passes` times (fsync after each), then unlink it.
 * On SSDs and copy-on-write file systems the overwrite may not reach the old blocks; the real
 * guarantee is that the key is gone (README, "What shredding is and is not").
 * Resolves false when there was no such file.
 */
export async function shredFile(filePath: string, passes: number): Promise<boolean> {
	let handle;
	try {
		handle = await open(filePath, 'r+');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
		throw error;
	}
	try {
		const { size } = await handle.stat();
		for (let pass = 0; pass < passes; pass++) {
			for (let offset = 0; offset < size; offset += SHRED_BLOCK) {
				const block = randomBytes(Math.min(SHRED_BLOCK, size - offset));
				await handle.write(block, 0, block.length, offset);
			}
			await handle.sync();
		}
	} finally {
		await handle.close();
	}
	await unlink(filePath).catch((error: NodeJS.ErrnoException) => {
		if (error.code !== 'ENOENT') throw error;
	});
	return true;
}

async function list(dir: string, suffix: string): Promise<FileEntry[]> {
	let names: string[];
	try {
		names = await readdir(dir);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
		throw error;
	}
	const entries: FileEntry[] = [];
	for (const name of names) {
		const id = name.endsWith(suffix) ? name.slice(0, -suffix.length) : '';
		const filePath = path.join(dir, name);
		try {
			const { mtimeMs, isFile, size } = await stat(filePath).then((s) => ({
				mtimeMs: s.mtimeMs,
				isFile: s.isFile(),
				size: s.size
			}));
			if (isFile) {
				entries.push({ id: ID.test(id) ? id : '', location: filePath, modifiedAt: mtimeMs, size });
			}
		} catch {
			// vanished while listing: someone else cleaned it
		}
	}
	return entries;
}

/** Where files live and how hard they are shredded (from the configuration). */
export type DiskStorageOptions = {
	storagePath: string;
	tempPath: string;
	secureShredPasses: number;
};

/**
 * The drops' files on one file system: parts being written in `tempPath`, stored drops in
 * `storagePath`, both named by lookup id only.
 */
export class DiskStorage implements FileStorage {
	readonly kind = 'fs';
	readonly #options: DiskStorageOptions;

	constructor(options: DiskStorageOptions) {
		this.#options = options;
	}

	#storedPath(id: string): string {
		return path.join(this.#options.storagePath, checkId(id) + STORED_SUFFIX);
	}

	#tempPath(id: string): string {
		return path.join(this.#options.tempPath, checkId(id) + TEMP_SUFFIX);
	}

	async prepare(): Promise<void> {
		await mkdir(this.#options.storagePath, { recursive: true });
		await mkdir(this.#options.tempPath, { recursive: true });
	}

	/** Both folders are writable by us. */
	async isAvailable(): Promise<boolean> {
		const { storagePath, tempPath } = this.#options;
		try {
			await Promise.all([access(storagePath, constants.W_OK), access(tempPath, constants.W_OK)]);
			return true;
		} catch {
			return false;
		}
	}

	/** Bytes free for us on the storage file system, and its size. */
	async space(): Promise<StorageSpace> {
		const stats = await statfs(this.#options.storagePath);
		return { freeBytes: stats.bavail * stats.bsize, sizeBytes: stats.blocks * stats.bsize };
	}

	/** Open TEMP_PATH/<id>.part for writing; its commit makes it STORAGE_PATH/<id>.rzf. */
	createTemp(id: string): TempFile {
		return createTempFile(this.#tempPath(id), this.#storedPath(id));
	}

	openStored(id: string): Promise<StoredFile | undefined> {
		return openFile(this.#storedPath(id));
	}

	/** Shred the stored file of a drop (SECURE_SHRED_PASSES overwrites, then unlink). */
	removeStored(id: string): Promise<boolean> {
		return shredFile(this.#storedPath(id), this.#options.secureShredPasses);
	}

	/**
	 * Shred a file listed by listStored() or listTemp(); false when it was already gone.
	 * @throws when the entry's location is not in one of our folders, or not the file of its id
	 */
	async remove(entry: FileEntry): Promise<boolean> {
		// As on S3: a path is only ever one of ours, so no entry can name another file. A name
		// that is not a lookup id (listed with id '') must at least lie in one of the folders.
		const { storagePath, tempPath } = this.#options;
		const location = path.resolve(entry.location);
		const ours =
			entry.id === ''
				? [storagePath, tempPath].some((dir) => path.resolve(dir) === path.dirname(location))
				: [this.#storedPath(entry.id), this.#tempPath(entry.id)].some(
						(own) => path.resolve(own) === location
					);
		if (!ours) throw new Error('Not the file of this entry');
		return shredFile(entry.location, this.#options.secureShredPasses);
	}

	/** Every file in STORAGE_PATH; `id` is '' for names that are not ours. */
	listStored(): Promise<FileEntry[]> {
		return list(this.#options.storagePath, STORED_SUFFIX);
	}

	/** Every file in TEMP_PATH; `id` is '' for names that are not ours. */
	listTemp(): Promise<FileEntry[]> {
		return list(this.#options.tempPath, TEMP_SUFFIX);
	}

	close(): Promise<void> {
		return Promise.resolve();
	}
}
