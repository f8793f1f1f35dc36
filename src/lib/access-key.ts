/**
 * The pages' side of version-2 keys (issue #11): the access key is derived in the browser, in
 * a Web Worker, so a passphrase typed or drawn in a page never leaves it, and the send page
 * draws its own passphrase. Universal code: importing it is harmless during server rendering;
 * only calling deriveAccessKey starts anything, and that needs a browser.
 *
 * What the wiring needs to know:
 * - The worker is `access-key.worker.ts`, bundled by Vite from the `new URL(...)` below into
 *   its own file under /_app/immutable/ (same origin, so script-src 'self' covers it).
 * - One worker per tab, started on the first call (or by prepareAccessKeyWorker) and kept:
 *   the first key costs the worker's start and module load on top of one scrypt.
 * - Keys are cached per normalised passphrase (a few at most), so "check" then "download"
 *   with the same passphrase runs scrypt once however it was written.
 */
import type { AccessKeyAnswer, AccessKeyRequest } from './access-key.worker';
import { MAX_PASSPHRASE_LENGTH, MAX_WORDS, MIN_WORDS, splitPassphrase } from './passphrase';

/**
 * A passphrase the way the server reads it (Wordlist.check): NFKC, lower case, any run of
 * non-letters one separator, the words joined by `-`.
 */
export function normalisePassphrase(input: string): string {
	return splitPassphrase(input).join('-');
}

/** Few: a page needs one or two; more would only keep old passphrases' keys in memory. */
const CACHE_LIMIT = 4;
const cache = new Map<string, Promise<string>>();

let worker: Worker | undefined;
let nextId = 0;
const pending = new Map<
	number,
	{ resolve: (key: string) => void; reject: (error: Error) => void }
>();

function failAll(message: string): void {
	worker?.terminate();
	worker = undefined;
	for (const { reject } of pending.values()) reject(new Error(message));
	pending.clear();
}

function startWorker(): Worker {
	if (worker) return worker;
	if (typeof Worker === 'undefined') throw new Error('Web Workers are not available here');
	// Vite's own pattern: the literal `new URL(..., import.meta.url)` inside `new Worker` is what
	// makes it bundle the worker as a separate file (a module worker, like the rest of the app).
	const started = new Worker(new URL('./access-key.worker.ts', import.meta.url), {
		type: 'module'
	});
	started.onmessage = ({ data }: MessageEvent<AccessKeyAnswer>) => {
		const request = pending.get(data.id);
		if (!request) return;
		pending.delete(data.id);
		if (data.ok) request.resolve(data.key);
		else request.reject(new Error(`The access key could not be derived: ${data.message}`));
	};
	// A worker that fails to load (blocked, network) or crashes answers nothing: fail what is
	// waiting, and let the next call start a fresh one.
	started.onerror = (event) => {
		event.preventDefault();
		failAll('The access key worker failed to run');
	};
	started.onmessageerror = () => failAll('The access key worker sent an unreadable answer');
	worker = started;
	return started;
}

/**
 * Start the worker ahead of the first key (for example when a page opens), so that its start
 * and module load are not paid when the user presses the button. Safe to call repeatedly.
 */
export function prepareAccessKeyWorker(): void {
	try {
		startWorker();
	} catch {
		// deriveAccessKey will report the same problem when it is actually needed.
	}
}

function deriveInWorker(normalised: string): Promise<string> {
	return new Promise((resolve, reject) => {
		const id = nextId++;
		pending.set(id, { resolve, reject });
		try {
			startWorker().postMessage({ id, normalised } satisfies AccessKeyRequest);
		} catch (error) {
			pending.delete(id);
			reject(error instanceof Error ? error : new Error(String(error)));
		}
	});
}

/**
 * The access key of `passphrase` (normalised first), base64url without padding:
 * `scrypt(normalised, "raven-zero/v2", N=2^14, r=8, p=1, 32 bytes)`, computed in a Web Worker
 * so the page never freezes. Calls with the same normalised passphrase share one computation.
 * @throws (rejects) when the passphrase is empty or too long to be one the server accepts,
 *   or when no worker can run; a failed derivation is not cached.
 */
export function deriveAccessKey(passphrase: string): Promise<string> {
	const normalised = normalisePassphrase(passphrase);
	if (normalised.length === 0 || normalised.length > MAX_PASSPHRASE_LENGTH) {
		return Promise.reject(new RangeError('Not a passphrase the server would accept'));
	}
	let key = cache.get(normalised);
	if (key) {
		// Most recently used last, so the oldest entry is the one dropped.
		cache.delete(normalised);
	} else {
		key = deriveInWorker(normalised);
		const derived = key;
		derived.catch(() => {
			if (cache.get(normalised) === derived) cache.delete(normalised);
		});
	}
	cache.set(normalised, key);
	while (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
	return key;
}

/** Forget every cached key and stop the worker (after a download, or in tests). */
export function forgetAccessKeys(): void {
	cache.clear();
	failAll('The access keys were forgotten');
}

const UINT32_RANGE = 2 ** 32;

/**
 * The largest multiple of `size` not above 2^32. A random uint32 below it, taken modulo
 * `size`, hits every index equally often (limit / size times); values at or above it are
 * drawn again, which for the 7,772-word list happens about once in 920,000 draws.
 */
export function rejectionLimit(size: number): number {
	if (!Number.isInteger(size) || size < 1 || size > UINT32_RANGE) {
		throw new RangeError(`Cannot draw uniformly from ${size} items`);
	}
	return UINT32_RANGE - (UINT32_RANGE % size);
}

function randomUint32(): number {
	return crypto.getRandomValues(new Uint32Array(1))[0]!;
}

/** A uniform index in [0, size), by rejection sampling over `nextUint32`. */
export function uniformIndex(size: number, nextUint32: () => number = randomUint32): number {
	const limit = rejectionLimit(size);
	for (;;) {
		const value = nextUint32();
		if (value < limit) return value % size;
	}
}

/**
 * A new passphrase of `count` words, each drawn uniformly and independently from `words`
 * (the list /words.json serves) with crypto.getRandomValues, joined by `-`: the same form
 * the server's Wordlist.generate gives, and already normalised.
 * @throws RangeError when `count` is outside MIN_WORDS..MAX_WORDS, or when `words` is empty,
 *   has duplicates (they would be drawn more often) or a word normalisation would split.
 */
export function drawPassphrase(words: readonly string[], count: number): string {
	if (!Number.isInteger(count) || count < MIN_WORDS || count > MAX_WORDS) {
		throw new RangeError(`A passphrase has ${MIN_WORDS} to ${MAX_WORDS} words, not ${count}`);
	}
	if (words.length === 0 || new Set(words).size !== words.length) {
		throw new RangeError('The word list is empty or has duplicates');
	}
	// Exactly one word, unchanged: `yo-yo` normalises to itself but reads back as two words.
	const unusable = words.find((word) => {
		const read = splitPassphrase(word);
		return read.length !== 1 || read[0] !== word;
	});
	if (unusable !== undefined) {
		throw new RangeError(`"${unusable}" would not survive normalisation as one word`);
	}
	const drawn: string[] = [];
	for (let i = 0; i < count; i++) drawn.push(words[uniformIndex(words.length)]!);
	return drawn.join('-');
}

/** A key not ready after this long gets a "preparing the key" state; quicker ones none. */
export const SLOW_KEY_MS = 150;

/**
 * `work`, calling `onSlow` once if it has not settled within `ms`: a page shows its
 * "preparing the key" state only when the derivation is slow enough to be noticed (a cold
 * worker, a slow phone), and no flash of it otherwise.
 */
export function noticeIfSlow<T>(
	work: Promise<T>,
	onSlow: () => void,
	ms = SLOW_KEY_MS
): Promise<T> {
	const timer = setTimeout(onSlow, ms);
	return work.finally(() => clearTimeout(timer));
}
