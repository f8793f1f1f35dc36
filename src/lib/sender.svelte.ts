/**
 * The send page's state, created by the page and seeded from what the server rendered.
 *
 * Sending is the page's default action, with or without JavaScript. Without it the browser
 * posts the form, the server draws the passphrase, and the page is rendered with the action's
 * answer (`form`). With it the page draws the passphrase itself (the word list of
 * /words.json, `PASSPHRASE_WORDS` words, ./access-key.ts), derives its access key in a Web
 * Worker and posts the same form to the same action with the key in `X-Access-Key`: the
 * passphrase never leaves the page, and the answer carries none. The rare 409 DROP_EXISTS (a
 * live drop under that key) draws again. XMLHttpRequest rather than fetch (or `use:enhance`,
 * which uses fetch) because only XHR reports upload progress, and `abort()` cancels it. Both
 * paths end in the same `SendAnswer`. `POST /upload/` stays the API for curl and scripts.
 *
 * Where the word list or a Web Worker is not available, the page posts without a key and the
 * server draws, as for the no-JavaScript form.
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
import {
	deriveAccessKey,
	drawPassphrase,
	noticeIfSlow,
	prepareAccessKeyWorker
} from './access-key';
import { loadWords } from './words';
import { contentsOf, packArchive, type PickedFile } from './archive';
import type { ContentsEntry, DropKind } from './drop-bounds';

/** What the send action answers, and what the page shows: the drop, or why not. */
export type SendAnswer = { sent: SentDrop | null; failure: Failure | null };

export type SendPhase =
	'idle' | 'packing' | 'preparing' | 'uploading' | 'processing' | 'done' | 'failed' | 'cancelled';

/**
 * What the page sends: one file (or the text typed in the Text tab, marked as text so the
 * recipient's page shows it as text), or several files, zipped here first (./archive.ts).
 */
export type Outgoing =
	{ kind: 'file' | 'text'; file: File } | { kind: 'archive'; files: PickedFile[] };

/** The body of the upload: the file, and what the sealed metadata says it holds. */
type Packed = { file: File; kind: DropKind; contents?: ContentsEntry[] };

/**
 * How many passphrases to draw when each collides with a live drop. One collision is already
 * rare (4 words: 7,772^4 ≈ 3.6e15 passphrases); three in a row mean something else is wrong.
 */
const MAX_DRAWS = 3;

/** A passphrase the page drew, and its access key. */
type Drawn = { passphrase: string; accessKey: string };

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
	#slowKey = $state(false);
	/** Counts sends, so that a cancelled or replaced one changes nothing when it finishes. */
	#run = 0;
	readonly #words: () => number;
	#loaded = $state(0);
	#total = $state(0);
	#speed = $state(0);
	#xhr: XMLHttpRequest | undefined;
	/** Stops the zip being built (cancel). */
	#packing: AbortController | undefined;
	#samples: { at: number; loaded: number }[] = [];

	/**
	 * `rendered`: what the page is rendered with (the action's `form`, or a refusal);
	 * `words`: how many words a passphrase has (PASSPHRASE_WORDS).
	 */
	constructor(rendered: () => SendAnswer | null, words: () => number) {
		this.#rendered = rendered;
		this.#words = words;
	}

	/** Start the key's worker and fetch the word list before the first send. */
	prepare(): void {
		prepareAccessKeyWorker();
		loadWords().catch(() => undefined);
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
		return (
			this.#phase === 'packing' ||
			this.#phase === 'preparing' ||
			this.#phase === 'uploading' ||
			this.#phase === 'processing'
		);
	}
	/**
	 * Bytes are on their way, or all sent and the server is storing them: leaving the page now
	 * would make a drop whose passphrase nobody ever sees.
	 */
	get uploading(): boolean {
		return this.#phase === 'uploading' || this.#phase === 'processing';
	}
	/** How much of the file is sent, in whole per cent. */
	get percent(): number {
		return this.#total > 0 ? Math.min(100, Math.floor((this.#loaded / this.#total) * 100)) : 0;
	}
	/** Deriving the key has taken long enough to say so ("preparing the key"). */
	get preparingShown(): boolean {
		return this.#phase === 'preparing' && this.#slowKey;
	}

	/**
	 * Post what is to be sent with the chosen expiry and uses to the page's action at `action`.
	 * `size`: its size as sent (a zip's, predicted before it is built).
	 */
	start(
		action: string,
		outgoing: Outgoing,
		size: number,
		fields: { expiry: number; uses: number }
	): void {
		this.#xhr?.abort();
		this.#xhr = undefined;
		this.#packing?.abort();
		const run = ++this.#run;
		this.#phase = 'preparing';
		this.#slowKey = false;
		this.#loaded = 0;
		this.#total = size;
		this.#speed = 0;
		this.#answer = null;
		void this.#send(run, action, outgoing, fields);
	}

	async #send(
		run: number,
		action: string,
		outgoing: Outgoing,
		fields: { expiry: number; uses: number }
	): Promise<void> {
		const body = await this.#pack(run, outgoing);
		if (!body) return;
		for (let draw = 1; ; draw++) {
			const drawn = await this.#draw(run);
			if (run !== this.#run) return;
			const answer = await this.#post(run, action, body, fields, drawn?.accessKey);
			if (answer === undefined) return; // cancelled, or replaced by another send
			// A live drop already has this key: draw another passphrase and send again.
			if (answer.failure?.code === 'DROP_EXISTS' && drawn && draw < MAX_DRAWS) continue;
			this.#answer =
				answer.sent && drawn ? { ...answer, sent: { ...answer.sent, ...drawn } } : answer;
			this.#phase = answer.sent ? 'done' : 'failed';
			return;
		}
	}

	/**
	 * The upload's body: the file as it is, or several zipped (phase `packing`, `loaded`
	 * counting the bytes read). Undefined when cancelled, replaced, or a file could not be read.
	 */
	async #pack(run: number, outgoing: Outgoing): Promise<Packed | undefined> {
		if (outgoing.kind !== 'archive') return { file: outgoing.file, kind: outgoing.kind };
		this.#phase = 'packing';
		const packing = new AbortController();
		this.#packing = packing;
		try {
			const file = await packArchive(
				outgoing.files,
				(read) => {
					if (run === this.#run) this.#loaded = read;
				},
				packing.signal
			);
			return { file, kind: 'archive', contents: contentsOf(outgoing.files) };
		} catch {
			if (run !== this.#run || packing.signal.aborted) return undefined;
			// A file moved, deleted or changed since it was chosen.
			this.refuse(
				'UNREADABLE_FILE',
				'One of the files could not be read (moved, deleted or changed since it was chosen). Nothing was uploaded.'
			);
			return undefined;
		} finally {
			if (this.#packing === packing) this.#packing = undefined;
		}
	}

	/**
	 * Draw a passphrase and derive its access key; null where that cannot be done here (the
	 * word list did not load, no Web Worker runs): then the server draws, as without JavaScript.
	 */
	async #draw(run: number): Promise<Drawn | null> {
		this.#phase = 'preparing';
		try {
			const { words } = await loadWords();
			const passphrase = drawPassphrase(words, this.#words());
			const accessKey = await noticeIfSlow(deriveAccessKey(passphrase), () => {
				if (run === this.#run) this.#slowKey = true;
			});
			return { passphrase, accessKey };
		} catch {
			return null;
		} finally {
			if (run === this.#run) this.#slowKey = false;
		}
	}

	/** One upload; its answer, or undefined when it was cancelled or replaced. */
	#post(
		run: number,
		action: string,
		{ file, kind, contents }: Packed,
		fields: { expiry: number; uses: number },
		accessKey: string | undefined
	): Promise<SendAnswer | undefined> {
		// The same fields as the page's form, fields before the file as curl examples do (a bad
		// `kind` or `contents` is then refused before the file is sent).
		const form = new FormData();
		form.append('expiry', String(fields.expiry));
		form.append('uses', String(fields.uses));
		if (kind !== 'file') form.append('kind', kind);
		if (contents) form.append('contents', JSON.stringify(contents));
		// A zip's File is made of references to the chosen files: the browser reads them from
		// disk as it sends (./archive.ts), so nothing is copied here.
		form.append('file', file, file.name);

		const xhr = new XMLHttpRequest();
		this.#xhr = xhr;
		this.#phase = 'uploading';
		this.#loaded = 0;
		this.#samples = [{ at: performance.now(), loaded: 0 }];
		const current = () => this.#xhr === xhr && this.#run === run;

		return new Promise((resolve) => {
			xhr.upload.addEventListener('progress', (event) => {
				if (!current()) return;
				// The request carries a little multipart framing around the file; count the file.
				this.#loaded = event.lengthComputable
					? Math.round((event.loaded / event.total) * file.size)
					: Math.min(event.loaded, file.size);
				this.#sample(this.#loaded);
			});
			xhr.upload.addEventListener('load', () => {
				// Every byte is sent; the server is finishing (fsync, store) before it answers.
				if (current()) this.#phase = 'processing';
			});
			xhr.addEventListener('load', () => {
				if (!current()) return resolve(undefined);
				this.#xhr = undefined;
				resolve(answerOf(xhr));
			});
			xhr.addEventListener('error', () => {
				if (!current()) return resolve(undefined);
				this.#xhr = undefined;
				resolve({ sent: null, failure: NETWORK_FAILURE });
			});
			xhr.addEventListener('abort', () => resolve(undefined));
			xhr.open('POST', action);
			// What use:enhance sends: Kit answers with the action result (JSON), not the page.
			xhr.setRequestHeader('Accept', 'application/json');
			xhr.setRequestHeader('x-sveltekit-action', 'true');
			// The key of the passphrase drawn here; the passphrase itself is never sent.
			if (accessKey !== undefined) xhr.setRequestHeader('X-Access-Key', accessKey);
			xhr.send(form);
		});
	}

	/** Stop the upload (or the key being prepared); the server discards what it received. */
	cancel(): void {
		const xhr = this.#xhr;
		this.#xhr = undefined;
		this.#run++;
		xhr?.abort();
		this.#packing?.abort();
		if (this.busy) this.#phase = 'cancelled';
	}

	/** Refuse before sending (too large, nothing to send): shown like a server refusal. */
	refuse(code: Failure['code'], message: string): void {
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
