/**
 * Several files or a folder as one drop: a zip built in the browser with client-zip, with the
 * list of names and sizes that travels (sealed) in the upload's `contents` field.
 *
 * The upload is an XMLHttpRequest (for its progress events and `abort()`), which needs a Blob
 * body: Chromium cannot stream a request body over HTTP/1.1, so the zip cannot be piped into
 * the request as it is made. Reading client-zip's stream into one Blob (`Response.blob()`)
 * would make a second full copy of every file, in memory for as long as the browser's blob
 * store keeps it there (it only pages to disk past a large share of RAM). Instead the zip is
 * a Blob of parts that *reference* the original File objects: the browser reads them from
 * disk again while it sends, and nothing but the headers is ever held.
 *
 * For that, client-zip still writes every byte of the zip format (local headers, data
 * descriptors, central directory, ZIP64 past 4 GiB) from one streaming pass over the files,
 * which is also what computes their CRC-32s. Each chunk of file data is fed to it from a
 * stream of our own and recognised by identity when it comes out (client-zip passes
 * Uint8Array chunks through untouched): those runs are replaced by the File itself, and
 * everything else (a few dozen bytes per file) is kept. Should a chunk ever come out as a
 * copy, it is simply kept as bytes: the zip stays correct, only heavier, and the final size
 * check (predictLength) refuses a zip that is neither.
 */
import { makeZip, predictLength } from 'client-zip';
import type { ContentsEntry } from './drop-bounds';

/** A file to put in the zip, under its path inside it (`photos/beach.jpg`). */
export type PickedFile = { file: File; path: string };

/** The files of a file input: their folder paths when a folder was chosen. */
export function pickedFromList(list: FileList | readonly File[]): PickedFile[] {
	return Array.from(list, (file) => ({ file, path: file.webkitRelativePath || file.name }));
}

/**
 * The files of a drop, folders walked. Must be called during the `drop` event: the items are
 * unreadable once it returns, so their entries are taken at once and read afterwards. Items
 * without a file system entry (a DataTransfer built by a script) are taken as plain files.
 */
export function pickedFromDrop(transfer: DataTransfer): Promise<PickedFile[]> {
	const entries: (FileSystemEntry | File)[] = [];
	for (const item of Array.from(transfer.items)) {
		if (item.kind !== 'file') continue;
		const entry = item.webkitGetAsEntry?.() ?? null;
		const file = entry ? null : item.getAsFile();
		if (entry) entries.push(entry);
		else if (file) entries.push(file);
	}
	return Promise.all(
		entries.map((entry) =>
			entry instanceof File ? Promise.resolve([{ file: entry, path: entry.name }]) : walk(entry, '')
		)
	).then((lists) => lists.flat());
}

async function walk(entry: FileSystemEntry, folder: string): Promise<PickedFile[]> {
	const path = folder + entry.name;
	if (isFile(entry)) {
		const file = await new Promise<File>((resolve, reject) => entry.file(resolve, reject));
		return [{ file, path }];
	}
	if (!isDirectory(entry)) return [];
	const reader = entry.createReader();
	const children: FileSystemEntry[] = [];
	// readEntries answers in batches (100 in Chromium) until it answers none.
	for (;;) {
		const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
			reader.readEntries(resolve, reject)
		);
		if (batch.length === 0) break;
		children.push(...batch);
	}
	const lists = await Promise.all(children.map((child) => walk(child, `${path}/`)));
	return lists.flat();
}

const isFile = (entry: FileSystemEntry): entry is FileSystemFileEntry => entry.isFile;
const isDirectory = (entry: FileSystemEntry): entry is FileSystemDirectoryEntry =>
	entry.isDirectory;

/**
 * The same files with unique paths (`notes.txt`, `notes (2).txt`), as two files dropped from
 * different folders may share a name and an unzipper would ask which one to keep.
 */
export function withUniquePaths(picked: readonly PickedFile[]): PickedFile[] {
	const taken = new Set<string>();
	return picked.map(({ file, path }) => {
		let unique = path;
		const dot = path.lastIndexOf('.');
		const slash = path.lastIndexOf('/');
		const [stem, extension] = dot > slash + 1 ? [path.slice(0, dot), path.slice(dot)] : [path, ''];
		for (let n = 2; taken.has(unique); n++) unique = `${stem} (${n})${extension}`;
		taken.add(unique);
		return { file, path: unique };
	});
}

/** The list the recipient is shown (the upload's `contents` field). */
export function contentsOf(picked: readonly PickedFile[]): ContentsEntry[] {
	return picked.map(({ file, path }) => ({ name: path, size: file.size }));
}

/** The zip's name: its folder's when everything is in one folder, else `files.zip`. */
export function archiveName(picked: readonly PickedFile[]): string {
	const tops = new Set(picked.map(({ path }) => (path.includes('/') ? path.split('/')[0] : '')));
	const [top] = tops;
	return tops.size === 1 && top ? `${top}.zip` : 'files.zip';
}

/** The zip's exact size, known before it is built (for the size limit and the progress). */
export function archiveSize(picked: readonly PickedFile[]): number {
	return Number(predictLength(picked.map(describe)));
}

function describe({ file, path }: PickedFile) {
	return { name: path, size: file.size, lastModified: file.lastModified };
}

/**
 * Build the zip: one pass over every file (client-zip computes the CRC-32s), reporting the
 * bytes read; resolves with a File whose parts are the zip's headers and the original Files.
 * Rejects when `signal` aborts.
 */
export async function packArchive(
	picked: readonly PickedFile[],
	onProgress: (read: number) => void,
	signal?: AbortSignal
): Promise<File> {
	const files = withUniquePaths(picked);
	const dataOf = new WeakMap<Uint8Array, number>();
	const inputs = files.map((picked, index) => ({
		...describe(picked),
		input: tagged(picked.file, index, dataOf)
	}));
	const parts: BlobPart[] = [];
	const taken = files.map(() => 0);
	let read = 0;
	const reader = makeZip(inputs).getReader();
	try {
		for (;;) {
			signal?.throwIfAborted();
			const { done, value } = await reader.read();
			if (done) break;
			const index = dataOf.get(value);
			if (index === undefined) {
				parts.push(value as Uint8Array<ArrayBuffer>);
				continue;
			}
			taken[index]! += value.byteLength;
			read += value.byteLength;
			onProgress(read);
			// The file's last bytes went through: the File stands for all of them.
			if (taken[index] === files[index]!.file.size) parts.push(files[index]!.file);
		}
	} catch (error) {
		await reader.cancel().catch(() => undefined);
		throw error;
	}
	const zip = new File(parts, archiveName(files), { type: 'application/zip' });
	if (zip.size !== archiveSize(files)) throw new Error('The zip came out the wrong size');
	return zip;
}

/** A stream of `file` whose chunks are remembered as data of the file at `index`. */
function tagged(
	file: File,
	index: number,
	dataOf: WeakMap<Uint8Array, number>
): ReadableStream<Uint8Array> {
	const source = file.stream().getReader();
	return new ReadableStream<Uint8Array>({
		async pull(controller) {
			const { done, value } = await source.read();
			if (done) return controller.close();
			dataOf.set(value, index);
			controller.enqueue(value);
		},
		cancel: (reason) => source.cancel(reason)
	});
}
