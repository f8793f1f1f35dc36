/**
 * The retrieval page's state, created by the page and seeded from what the server rendered.
 *
 * "Check" is the page's `check` action. Without JavaScript the browser posts the form with the
 * passphrase and the page is rendered with the action's answer (`form`). With JavaScript
 * `use:enhance` posts the same form, but `check` below first reads the passphrase against the
 * word list, derives its access key in a Web Worker (./access-key.ts, issue #11) and sends
 * the key in place of the passphrase: the passphrase never leaves the page. One server path,
 * one shape (`CheckAnswer`), so both paths show the same state.
 *
 * "Download" posts the same access key (X-Access-Key) to `/download`, which streams an
 * attachment (an action cannot). It is read with fetch, so the page can show progress, read
 * `X-SHA256` and `X-Remaining-Uses`, and check the bytes itself before handing them over.
 *
 * Where no Web Worker can run (a browser without module workers), the page falls back to what
 * its no-JavaScript form does: it sends the passphrase and the server derives the key.
 */
import type { ActionResult, SubmitFunction } from '@sveltejs/kit';
import { deriveAccessKey, noticeIfSlow, prepareAccessKeyWorker } from './access-key';
import {
	failureOutsideAction,
	NETWORK_FAILURE,
	readFailure,
	type DropInfo,
	type Failure
} from './api-client';
import { pageFailure } from './errors';
import { describeMalformed } from './passphrase';
import { loadWords, checkPassphrase } from './words';

/** What the `check` action answers, and what the page shows: the drop, or why not. */
export type CheckAnswer = {
	/** The passphrase the answer is about (normalised), for the download form. */
	passphrase: string;
	info: DropInfo | null;
	failure: Failure | null;
	/**
	 * The form without JavaScript was sent back from /download to check again before the last
	 * download, which the page had not warned about (its count was stale): say why no file came.
	 */
	rechecked?: boolean;
};

export type Downloaded = {
	filename: string;
	size: number;
	/** What the server recorded at upload (X-SHA256). */
	sha256: string;
	/** Whether the bytes received hash to it; null where the browser cannot hash (plain http). */
	verified: boolean | null;
	remainingUses: number;
	/** A text drop's text, shown on the page instead of being saved as a file. */
	text?: string;
};

/**
 * The largest text drop shown as text: past this (a sender can mark anything as text) it is
 * saved as a file like any other, rather than held in the page.
 */
export const MAX_SHOWN_TEXT_BYTES = 1024 * 1024;

export class Retriever {
	readonly #rendered: () => CheckAnswer | null;
	/**
	 * The answer shown: what the server rendered the page with until this page learns more
	 * (an enhanced check, a download, an edit), and again after a navigation renders it anew.
	 */
	#answer = $derived.by(() => this.#rendered());
	#checking = $state(false);
	#preparing = $state(false);
	#downloading = $state(false);
	#received = $state(0);
	#downloaded = $state<Downloaded | null>(null);

	/** `rendered`: what the page is rendered with (the action's `form`, or a refusal). */
	constructor(rendered: () => CheckAnswer | null) {
		this.#rendered = rendered;
	}

	get info(): DropInfo | null {
		return this.#answer?.info ?? null;
	}
	get failure(): Failure | null {
		return this.#answer?.failure ?? null;
	}
	/** The passphrase the shown answer is about ('' when there is none). */
	get passphrase(): string {
		return this.#answer?.passphrase ?? '';
	}
	get rechecked(): boolean {
		return this.#answer?.rechecked ?? false;
	}
	get checking(): boolean {
		return this.#checking;
	}
	/** Deriving the access key has taken long enough to say so ("preparing the key"). */
	get preparing(): boolean {
		return this.#preparing;
	}
	get downloading(): boolean {
		return this.#downloading;
	}
	/** Bytes of the running download received so far. */
	get received(): number {
		return this.#received;
	}
	get downloaded(): Downloaded | null {
		return this.#downloaded;
	}

	/** Forget the last answer (the passphrase was edited). */
	clear(): void {
		this.#answer = null;
		this.#downloaded = null;
	}

	/**
	 * Get ready before the first click: start the worker and, for a passphrase already known
	 * (a share link), derive its key now, so that Check finds it done.
	 */
	prepare(passphrase = ''): void {
		prepareAccessKeyWorker();
		const reading = checkPassphrase(null, passphrase);
		if (reading.ok) deriveAccessKey(reading.normalised).catch(() => undefined);
	}

	/**
	 * `use:enhance` for the check form. The passphrase is read against the word list here (a
	 * malformed one is refused without a request: its access key could only come back
	 * unknown, and count as a failed lookup), then replaced by its access key in the posted
	 * form. The action's answer goes straight into this state rather than through `update()`:
	 * `update()` would set `form` to the same data, but its `applyAction` also moves focus to
	 * the top of the page after every successful check (Kit resets focus as for a navigation),
	 * which would throw a keyboard user back past the form instead of leaving them one Tab
	 * from the Download button. A redirect still goes through `update()`.
	 */
	check: SubmitFunction<CheckAnswer, CheckAnswer> = async ({ formData, cancel }) => {
		this.#checking = true;
		this.#downloaded = null;
		this.#change({ failure: null });
		const typed = String(formData.get('passphrase') ?? '');
		// Without the list (it failed to load) only the shape is checked here.
		const words = await loadWords().catch(() => null);
		const reading = checkPassphrase(words, typed);
		if (!reading.ok) {
			cancel();
			this.#checking = false;
			this.#answer = {
				passphrase: '',
				info: null,
				failure: pageFailure({
					code: 'INVALID_PASSPHRASE',
					detail: describeMalformed(reading.malformed),
					unknownWords: reading.unknownWords
				})
			};
			return;
		}
		const key = await this.#accessKey(reading.normalised);
		if (key !== null) {
			formData.delete('passphrase');
			formData.set('access_key', key);
		}
		return async ({ result, update }) => {
			this.#checking = false;
			if (result.type === 'redirect') return update();
			this.#answer = { ...answerOf(result), passphrase: reading.normalised };
		};
	};

	/** Download the checked drop (one use), verify it, and hand it to the browser. */
	async download(): Promise<void> {
		this.#downloading = true;
		this.#received = 0;
		this.#change({ failure: null });
		try {
			const response = await post(
				'/download',
				this.passphrase,
				await this.#accessKey(this.passphrase)
			);
			if (!response.ok || !response.body) {
				const failure = await readFailure(response);
				this.#change({ failure });
				// The drop changed under us (taken, expired): say so in the card as well.
				if (failure.code === 'ALREADY_DOWNLOADED') this.#markGone('burned');
				if (failure.code === 'EXPIRED') this.#markGone('expired');
				return;
			}
			const chunks: Uint8Array<ArrayBuffer>[] = [];
			const reader = response.body.getReader();
			for (;;) {
				const { done, value } = await reader.read();
				if (done) break;
				chunks.push(value as Uint8Array<ArrayBuffer>);
				this.#received += value.byteLength;
			}
			const filename = this.info?.filename ?? filenameFrom(response) ?? 'download';
			const type = response.headers.get('content-type') ?? 'application/octet-stream';
			const blob = new Blob(chunks, { type });
			const sha256 = response.headers.get('x-sha256') ?? '';
			const remainingUses = Number(response.headers.get('x-remaining-uses') ?? 0);
			const verified = await verify(blob, sha256);
			// A text drop is shown as text, when it is text; anything else is saved as a file.
			const text = verified !== false && this.#showsText() ? await textOf(blob) : undefined;
			// Bytes that fail their hash are never handed over (the server aborts first anyway).
			if (verified !== false && text === undefined) save(blob, filename);
			this.#downloaded = { filename, size: blob.size, sha256, verified, remainingUses, text };
			const info = this.info;
			if (info) {
				this.#change({
					info: { ...info, remainingUses, status: remainingUses === 0 ? 'burned' : info.status }
				});
			}
		} catch {
			// A broken transfer: the server aborts rather than send bytes that fail their check.
			this.#change({
				failure: {
					...NETWORK_FAILURE,
					message:
						'The download broke off before the end. Nothing was saved. The use may still have been counted.'
				}
			});
		} finally {
			this.#downloading = false;
		}
	}

	/**
	 * The access key of a passphrase, derived once (access-key.ts caches it), with the
	 * "preparing the key" state while a slow derivation runs; null where no worker can run.
	 */
	async #accessKey(passphrase: string): Promise<string | null> {
		try {
			return await noticeIfSlow(deriveAccessKey(passphrase), () => (this.#preparing = true));
		} catch {
			return null;
		} finally {
			this.#preparing = false;
		}
	}

	/** Whether the checked drop is text the page shows rather than saves. */
	#showsText(): boolean {
		const info = this.info;
		return info?.kind === 'text' && (info.size ?? Infinity) <= MAX_SHOWN_TEXT_BYTES;
	}

	#change(part: Partial<CheckAnswer>): void {
		if (this.#answer) this.#answer = { ...this.#answer, ...part };
	}

	#markGone(status: 'burned' | 'expired'): void {
		const info = this.info;
		if (info) this.#change({ info: { ...info, status, remainingUses: 0 } });
	}
}

/** The answer an enhanced check got: the action's own, or why there was none. */
function answerOf(result: ActionResult<CheckAnswer, CheckAnswer>): CheckAnswer {
	if ((result.type === 'success' || result.type === 'failure') && result.data) return result.data;
	const status = result.type === 'error' ? result.status : undefined;
	return { passphrase: '', info: null, failure: failureOutsideAction(result, status) };
}

/** POST a lookup naming the drop by its access key, or by the passphrase where none could be derived. */
function post(path: string, passphrase: string, accessKey: string | null): Promise<Response> {
	const headers: Record<string, string> = { Accept: 'application/json' };
	if (accessKey !== null) headers['X-Access-Key'] = accessKey;
	else headers['Content-Type'] = 'application/json';
	return fetch(path, {
		method: 'POST',
		headers,
		body: accessKey === null ? JSON.stringify({ passphrase }) : undefined,
		cache: 'no-store'
	});
}

/** The file name from `Content-Disposition` (RFC 6266 `filename*` first). */
function filenameFrom(response: Response): string | undefined {
	const header = response.headers.get('content-disposition') ?? '';
	const star = /filename\*=UTF-8''([^;]+)/i.exec(header);
	if (star) {
		try {
			return decodeURIComponent(star[1]!);
		} catch {
			// fall through to the plain form
		}
	}
	return /filename="([^"]+)"/i.exec(header)?.[1];
}

async function verify(blob: Blob, expected: string): Promise<boolean | null> {
	// crypto.subtle exists only in secure contexts (https, localhost).
	if (!expected || !globalThis.crypto?.subtle) return null;
	const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
	const hex = Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0'));
	return hex.join('') === expected.toLowerCase();
}

/** The bytes as UTF-8 text; undefined when they are not valid UTF-8 (then they are saved). */
async function textOf(blob: Blob): Promise<string | undefined> {
	try {
		return new TextDecoder('utf-8', { fatal: true }).decode(await blob.arrayBuffer());
	} catch {
		return undefined;
	}
}

/** Hand the bytes to the browser's own download, under the sender's file name. */
function save(blob: Blob, filename: string): void {
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
