/**
 * Where the retrieval page puts a download, and how it checks it (issue #13, "big downloads
 * go to disk, not memory"). Universal code: importing it is harmless during server rendering;
 * only calling it needs a browser.
 *
 * Three ways, chosen by the file's size and what the browser offers:
 * - `page`: a small file (up to IN_MEMORY_LIMIT) is read into memory, hashed as it arrives and
 *   handed to the browser's downloads only when its SHA-256 matches. No dialog, and bytes that
 *   fail their check never reach the disk.
 * - `picker`: a bigger file, where the File System Access API exists (Chromium on desktops),
 *   streams into the file the person picks (`showSaveFilePicker`), hashed on the way. The
 *   browser writes into a temporary file and moves it into place only on `close()`, so a
 *   mismatch or a broken transfer `abort()`s and leaves nothing behind.
 * - `browser`: a bigger file elsewhere (Firefox, Safari, phones) is the browser's own download
 *   of a POST form carrying the access key in its body (never in a URL). It goes to disk as it
 *   arrives, but the page never sees the bytes, so it cannot check them; the page says so.
 *
 * A service worker could stream and hash in those browsers too (Firefox Send did): not done
 * yet, see the README's "Big downloads".
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

/**
 * Up to this size a download is held in memory (twice, briefly: the chunks and the Blob made
 * of them) and checked before it is saved. Above it, it streams to disk. 64 MiB keeps a
 * phone's tab well clear of its memory limit and spares most downloads a save dialog.
 */
export const IN_MEMORY_LIMIT = 64 * 1024 * 1024;

export type SaveWay = 'page' | 'picker' | 'browser';

/** The part of the File System Access API used here (not in TypeScript's DOM types). */
type SaveFilePicker = (options: { suggestedName?: string }) => Promise<FileSystemFileHandle>;

function savePicker(): SaveFilePicker | undefined {
	const picker = (globalThis as { showSaveFilePicker?: SaveFilePicker }).showSaveFilePicker;
	return typeof picker === 'function' ? picker.bind(globalThis) : undefined;
}

/** How a file of `size` bytes is saved in this browser. */
export function chooseSaveWay(size: number): SaveWay {
	if (size <= IN_MEMORY_LIMIT) return 'page';
	return savePicker() ? 'picker' : 'browser';
}

/**
 * Ask where to save (the browser's save dialog). Must be called while the click that asked
 * for the download still counts as a user gesture: before any other await.
 * @returns the file picked, or null when the person cancelled the dialog
 * @throws when the picker cannot open (no user gesture, a policy): fall back to `browser`
 */
export async function pickSaveFile(filename: string): Promise<FileSystemFileHandle | null> {
	const picker = savePicker();
	if (!picker) throw new Error('No save picker in this browser');
	try {
		return await picker({ suggestedName: filename });
	} catch (error) {
		if (error instanceof DOMException && error.name === 'AbortError') return null;
		throw error;
	}
}

/** Progress as bytes arrive: called at most every PROGRESS_EVERY_MS, and once at the end. */
export type OnProgress = (received: number) => void;

const PROGRESS_EVERY_MS = 100;

/** Hashes and counts the bytes that pass through it; `hex()` once they all have. */
class CheckedStream {
	readonly #hash = sha256.create();
	#received = 0;
	#reported = 0;
	readonly transform: TransformStream<Uint8Array, Uint8Array>;

	constructor(onProgress: OnProgress) {
		this.transform = new TransformStream({
			transform: (chunk, controller) => {
				this.#hash.update(chunk);
				this.#received += chunk.byteLength;
				const now = performance.now();
				if (now - this.#reported >= PROGRESS_EVERY_MS) {
					this.#reported = now;
					onProgress(this.#received);
				}
				controller.enqueue(chunk);
			},
			flush: () => onProgress(this.#received)
		});
	}

	get received(): number {
		return this.#received;
	}

	hex(): string {
		return bytesToHex(this.#hash.digest());
	}
}

/** What a save ended with: the bytes written and whether they hash to what was expected. */
export type Saved = {
	size: number;
	/** true or false when checked; null when there was nothing to compare with. */
	verified: boolean | null;
	/** A text drop's text, when it was asked for as text and is UTF-8: shown, not saved. */
	text?: string;
};

function matches(actual: string, expected: string): boolean | null {
	return expected ? actual === expected.toLowerCase() : null;
}

/**
 * `page`: read the body into memory, hashing it as it comes, and hand it to the browser's
 * downloads only if it matches `expectedSha256`. `asText`: answer the bytes as text instead
 * of saving them, when they are UTF-8 (a text drop, shown on the page); otherwise they are
 * saved like any file.
 * @throws when the transfer breaks off (nothing is saved)
 */
export async function saveThroughPage(
	body: ReadableStream<Uint8Array>,
	options: {
		filename: string;
		type: string;
		expectedSha256: string;
		onProgress: OnProgress;
		asText?: boolean;
	}
): Promise<Saved> {
	const checked = new CheckedStream(options.onProgress);
	const chunks: Uint8Array<ArrayBuffer>[] = [];
	const reader = body.pipeThrough(checked.transform).getReader();
	for (;;) {
		const { done, value } = await reader.read();
		if (done) break;
		chunks.push(value as Uint8Array<ArrayBuffer>);
	}
	const verified = matches(checked.hex(), options.expectedSha256);
	const size = checked.received;
	// Bytes that fail their hash are never handed over (the server aborts first anyway).
	if (verified === false) return { size, verified };
	const blob = new Blob(chunks, { type: options.type });
	const text = options.asText ? await textOf(blob) : undefined;
	if (text !== undefined) return { size, verified, text };
	saveBlob(blob, options.filename);
	return { size, verified };
}

/** The bytes as UTF-8 text; undefined when they are not valid UTF-8 (then they are saved). */
async function textOf(blob: Blob): Promise<string | undefined> {
	try {
		return new TextDecoder('utf-8', { fatal: true }).decode(await blob.arrayBuffer());
	} catch {
		return undefined;
	}
}

/**
 * `picker`: stream the body into the picked file, hashing it on the way; keep the file only
 * if it matches. The browser writes to a temporary file until `close()`, so an `abort()`
 * (mismatch, broken transfer) leaves the picked file as it was.
 * @throws when the transfer breaks off or the disk refuses (nothing is kept)
 */
export async function saveThroughPicker(
	body: ReadableStream<Uint8Array>,
	file: FileSystemFileHandle,
	options: { expectedSha256: string; onProgress: OnProgress }
): Promise<Saved> {
	const checked = new CheckedStream(options.onProgress);
	const writable = await file.createWritable();
	// preventClose: the file is closed (kept) only after the check. On an error pipeTo aborts it.
	await body
		.pipeThrough(checked.transform)
		.pipeTo(writable as WritableStream<Uint8Array>, { preventClose: true });
	const verified = matches(checked.hex(), options.expectedSha256);
	if (verified === false) await writable.abort();
	else await writable.close();
	return { size: checked.received, verified };
}

/**
 * `browser`: the browser's own download of `POST /download`, the drop named in the form body
 * (its access key, or the passphrase where no key could be derived): the name never goes into
 * a URL, and the bytes go straight to disk. The page stays; a refusal comes back to `/r` with
 * its code, as for the form without JavaScript.
 */
export function saveThroughBrowser(name: { accessKey: string } | { passphrase: string }): void {
	const form = document.createElement('form');
	form.method = 'post';
	form.action = '/download';
	form.hidden = true;
	const field = document.createElement('input');
	field.type = 'hidden';
	if ('accessKey' in name) {
		field.name = 'access_key';
		field.value = name.accessKey;
	} else {
		field.name = 'passphrase';
		field.value = name.passphrase;
	}
	form.append(field);
	document.body.append(form);
	form.submit();
	form.remove();
}

/** Hand a Blob to the browser's own download, under the sender's file name. */
function saveBlob(blob: Blob, filename: string): void {
	const url = URL.createObjectURL(blob);
	const link = document.createElement('a');
	link.href = url;
	link.download = filename;
	link.rel = 'noopener';
	document.body.append(link);
	link.click();
	link.remove();
	// Give the browser time to start reading the blob before it is released.
	setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
