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
 * `X-SHA256` and `X-Remaining-Uses`, and check the bytes itself: held in memory for a small
 * file, streamed into the file the person picks for a big one, or, where the browser has no
 * picker, left to the browser's own download of a POST form (./save-download.ts).
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
import {
	chooseSaveWay,
	pickSaveFile,
	saveThroughBrowser,
	saveThroughPage,
	saveThroughPicker,
	type SaveWay
} from './save-download';
import { TransferRate } from './transfer-rate';
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
	/**
	 * Whether the bytes saved hash to it, checked in the page as they arrived; null when they
	 * were not checked (the browser saved them itself, or there was no SHA-256 to compare).
	 */
	verified: boolean | null;
	/** Where the bytes went: through the page, into a picked file, or the browser's download. */
	way: SaveWay;
	remainingUses: number;
	/** A text drop's text, shown on the page instead of being saved as a file. */
	text?: string;
};

/**
 * The largest text drop shown as text: past this (a sender can mark anything as text) it is
 * saved as a file like any other, rather than held in the page.
 */
export const MAX_SHOWN_TEXT_BYTES = 1024 * 1024;

/** A running download, as its progress bar shows it. */
export type DownloadProgress = {
	received: number;
	/** The file's size as the check answered it (0 when unknown). */
	total: number;
	/** 0 until the speed is known. */
	bytesPerSecond: number;
};

/** How often, and how many times, a download left to the browser is followed by status. */
const FOLLOW_EVERY_MS = 1000;
const FOLLOW_ATTEMPTS = 10;

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
	#progress = $state<DownloadProgress | null>(null);
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
	/** The running download's progress; null when none runs (or the browser shows it). */
	get progress(): DownloadProgress | null {
		return this.#progress;
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
		// One at a time: the button stays focusable while a check runs (see the page).
		if (this.#checking) return cancel();
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

	/**
	 * Download the checked drop (one use) and save it where its size allows checking it
	 * (./save-download.ts). A second press while one runs does nothing (the button stays
	 * focusable for the keyboard, so it is not disabled).
	 */
	async download(): Promise<void> {
		const info = this.info;
		if (this.#downloading || !info) return;
		const total = info.size ?? 0;
		let way = chooseSaveWay(total);
		this.#downloading = true;
		this.#downloaded = null;
		this.#change({ failure: null });
		try {
			// The save dialog first, while the click still counts as a user gesture.
			let file: FileSystemFileHandle | null = null;
			if (way === 'picker') {
				try {
					file = await pickSaveFile(info.filename ?? 'download');
					if (!file) return; // the person cancelled: nothing was asked of the server
				} catch {
					way = 'browser';
				}
			}
			const key = await this.#accessKey(this.passphrase);
			if (way === 'browser') {
				this.#handToBrowser(info, key);
				return;
			}
			const response = await post('/download', this.passphrase, key);
			if (!response.ok || !response.body) {
				const failure = await readFailure(response);
				this.#change({ failure });
				// The drop changed under us (taken, expired): say so in the card as well.
				if (failure.code === 'ALREADY_DOWNLOADED') this.#markGone('burned');
				if (failure.code === 'EXPIRED') this.#markGone('expired');
				return;
			}
			const filename = info.filename ?? filenameFrom(response) ?? 'download';
			const sha256 = response.headers.get('x-sha256') ?? '';
			const remainingUses = Number(response.headers.get('x-remaining-uses') ?? 0);
			const rate = new TransferRate();
			const onProgress = (received: number) => {
				rate.add(received);
				this.#progress = { received, total, bytesPerSecond: rate.bytesPerSecond };
			};
			onProgress(0);
			const saved = file
				? await saveThroughPicker(response.body, file, { expectedSha256: sha256, onProgress })
				: await saveThroughPage(response.body, {
						filename,
						type: response.headers.get('content-type') ?? 'application/octet-stream',
						expectedSha256: sha256,
						onProgress,
						// A text drop is shown as text, when it is text; anything else is saved.
						asText: this.#showsText()
					});
			this.#downloaded = { filename, sha256, remainingUses, way, ...saved };
			this.#setUsesLeft(remainingUses);
		} catch {
			// A broken transfer: the server aborts rather than send bytes that fail their check,
			// and a picked file is only written once the bytes are all in and checked.
			this.#change({
				failure: {
					...NETWORK_FAILURE,
					message:
						'The download broke off before the end. Nothing was saved. The use may still have been counted.'
				}
			});
		} finally {
			this.#downloading = false;
			this.#progress = null;
		}
	}

	/**
	 * The `browser` way: the browser downloads the file itself. The page cannot see it arrive,
	 * so it counts the use at once and then asks the server (a status check, free) until the
	 * count has moved.
	 */
	#handToBrowser(info: DropInfo, key: string | null): void {
		saveThroughBrowser(key !== null ? { accessKey: key } : { passphrase: this.passphrase });
		const remainingUses = Math.max(0, info.remainingUses - 1);
		this.#downloaded = {
			filename: info.filename ?? 'download',
			size: info.size ?? 0,
			sha256: info.sha256 ?? '',
			verified: null,
			way: 'browser',
			remainingUses
		};
		this.#setUsesLeft(remainingUses);
		void this.#followUses(key, remainingUses);
	}

	/** Ask for the drop's status a few times until the server has counted the download. */
	async #followUses(key: string | null, expected: number): Promise<void> {
		const passphrase = this.passphrase;
		for (let attempt = 0; attempt < FOLLOW_ATTEMPTS; attempt++) {
			await new Promise((resolve) => setTimeout(resolve, FOLLOW_EVERY_MS));
			const response = await post('/status', passphrase, key).catch(() => null);
			if (!response?.ok) continue;
			const status = (await response.json().catch(() => null)) as {
				status?: string;
				remaining_uses?: number;
			} | null;
			const left = status?.remaining_uses;
			if (typeof left !== 'number' || (status?.status === 'active' && left > expected)) continue;
			// A new check or an edit since: this answer no longer belongs to what is shown.
			const downloaded = this.#downloaded;
			if (this.passphrase !== passphrase || downloaded?.way !== 'browser') return;
			this.#downloaded = { ...downloaded, remainingUses: left };
			this.#setUsesLeft(left);
			return;
		}
	}

	/** The drop's card after a download of ours: the uses left, and burned after the last. */
	#setUsesLeft(remainingUses: number): void {
		const info = this.info;
		if (!info) return;
		this.#change({
			info: { ...info, remainingUses, status: remainingUses === 0 ? 'burned' : info.status }
		});
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
