/**
 * The send page's state, created by the page and seeded from what the server rendered.
 *
 * Sending is the page's default action, with or without JavaScript. Without it the browser
 * posts the form and the page is rendered with the action's answer (`form`). With it the
 * page posts the same form to the same action with XMLHttpRequest, asking for the action
 * result as `use:enhance` does: XHR rather than fetch (or `use:enhance`, which uses fetch)
 * because only XHR reports upload progress, and `abort()` cancels it. Both paths end in the
 * same `SendAnswer`. `POST /upload/` stays the API for curl and scripts.
 */
import type { ActionResult } from '@sveltejs/kit';
import { deserialize } from '$app/forms';
import {
	explain,
	failureOutsideAction,
	NETWORK_FAILURE,
	type Failure,
	type SentDrop
} from './api-client';
import type { ErrorCode } from './errors';

/** What the send action answers, and what the page shows: the drop, or why not. */
export type SendAnswer = { sent: SentDrop | null; failure: Failure | null };

export type SendPhase = 'idle' | 'uploading' | 'processing' | 'done' | 'failed' | 'cancelled';

/** Speed is averaged over this window, so it neither freezes nor jumps. */
const SPEED_WINDOW_MS = 2000;

export class Sender {
	readonly #rendered: () => SendAnswer | null;
	/**
	 * The answer shown: what the server rendered the page with until this page learns more
	 * (an upload, a refusal, "send another"), and again after a navigation renders it anew.
	 */
	#answer = $derived.by(() => this.#rendered());
	#phase = $state<SendPhase>('idle');
	#loaded = $state(0);
	#total = $state(0);
	#speed = $state(0);
	#xhr: XMLHttpRequest | undefined;
	#samples: { at: number; loaded: number }[] = [];

	/** `rendered`: what the page is rendered with (the action's `form`, or a refusal). */
	constructor(rendered: () => SendAnswer | null) {
		this.#rendered = rendered;
	}

	/** The drop just sent, once there is one. */
	get sent(): SentDrop | null {
		return this.#answer?.sent ?? null;
	}
	/** Why nothing was sent, as a sentence. */
	get error(): string | null {
		const failure = this.#answer?.failure;
		return failure ? explain(failure) : null;
	}
	get phase(): SendPhase {
		return this.#phase;
	}
	/** Bytes of the file sent so far. */
	get loaded(): number {
		return this.#loaded;
	}
	get total(): number {
		return this.#total;
	}
	/** Bytes per second over the last couple of seconds. */
	get speed(): number {
		return this.#speed;
	}
	get busy(): boolean {
		return this.#phase === 'uploading' || this.#phase === 'processing';
	}

	/** Post `file` with the chosen expiry and uses to the page's action at `action`. */
	start(action: string, file: File, fields: { expiry: number; uses: number }): void {
		this.#xhr?.abort();
		// The same fields as the page's form, fields before the file as curl examples do.
		const form = new FormData();
		form.append('expiry', String(fields.expiry));
		form.append('uses', String(fields.uses));
		form.append('file', file, file.name);

		const xhr = new XMLHttpRequest();
		this.#xhr = xhr;
		this.#phase = 'uploading';
		this.#loaded = 0;
		this.#total = file.size;
		this.#speed = 0;
		this.#answer = null;
		this.#samples = [{ at: performance.now(), loaded: 0 }];

		xhr.upload.addEventListener('progress', (event) => {
			if (this.#xhr !== xhr) return;
			// The request carries a little multipart framing around the file; count the file.
			this.#loaded = event.lengthComputable
				? Math.round((event.loaded / event.total) * file.size)
				: Math.min(event.loaded, file.size);
			this.#sample(this.#loaded);
		});
		xhr.upload.addEventListener('load', () => {
			// Every byte is sent; the server is finishing (fsync, store) before it answers.
			if (this.#xhr === xhr) this.#phase = 'processing';
		});
		xhr.addEventListener('load', () => {
			if (this.#xhr !== xhr) return;
			this.#xhr = undefined;
			const answer = answerOf(xhr);
			this.#answer = answer;
			this.#phase = answer.sent ? 'done' : 'failed';
		});
		xhr.addEventListener('error', () => {
			if (this.#xhr !== xhr) return;
			this.#xhr = undefined;
			this.#answer = { sent: null, failure: NETWORK_FAILURE };
			this.#phase = 'failed';
		});
		xhr.open('POST', action);
		// What use:enhance sends: Kit answers with the action result (JSON), not the page.
		xhr.setRequestHeader('Accept', 'application/json');
		xhr.setRequestHeader('x-sveltekit-action', 'true');
		xhr.send(form);
	}

	/** Stop the upload; the server discards whatever part it received. */
	cancel(): void {
		const xhr = this.#xhr;
		this.#xhr = undefined;
		xhr?.abort();
		if (this.busy) this.#phase = 'cancelled';
	}

	/** Refuse before sending (too large, nothing to send): shown like a server refusal. */
	refuse(code: ErrorCode, message: string): void {
		this.#answer = { sent: null, failure: { status: 0, code, message } };
		this.#phase = 'failed';
	}

	/** Forget the last refusal (another file was chosen). */
	dismiss(): void {
		if (this.#answer?.failure) this.#answer = null;
	}

	/** Back to the empty form ("send another"). */
	reset(): void {
		this.cancel();
		this.#phase = 'idle';
		this.#answer = null;
		this.#loaded = 0;
		this.#total = 0;
		this.#speed = 0;
	}

	#sample(loaded: number): void {
		const now = performance.now();
		this.#samples.push({ at: now, loaded });
		while (this.#samples.length > 2 && now - this.#samples[0]!.at > SPEED_WINDOW_MS) {
			this.#samples.shift();
		}
		const first = this.#samples[0]!;
		const seconds = (now - first.at) / 1000;
		if (seconds > 0.05) this.#speed = (loaded - first.loaded) / seconds;
	}
}

/**
 * The answer to an upload: the action's own (success or failure), or why there was none (a
 * hook refused first with the API's JSON error, the action threw, or a proxy answered).
 */
function answerOf(xhr: XMLHttpRequest): SendAnswer {
	let result: ActionResult<SendAnswer, SendAnswer> | undefined;
	try {
		result = deserialize(xhr.responseText);
	} catch {
		result = undefined; // not JSON: a proxy's page (a 413, a 502)
	}
	if ((result?.type === 'success' || result?.type === 'failure') && result.data) return result.data;
	const failure = failureOutsideAction(result, xhr.status, xhr.getResponseHeader('retry-after'));
	return { sent: null, failure };
}
