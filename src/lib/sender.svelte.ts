/**
 * One upload from the send page, with XMLHttpRequest rather than fetch: only XHR reports
 * upload progress, and `abort()` cancels it. Created by the page; state is reactive.
 */
import {
	explain,
	failureFrom,
	NETWORK_FAILURE,
	sentFromUpload,
	type SentDrop,
	type UploadResponse
} from './api-client';

export type UploadPhase = 'idle' | 'uploading' | 'processing' | 'done' | 'failed' | 'cancelled';

/** Speed is averaged over this window, so it neither freezes nor jumps. */
const SPEED_WINDOW_MS = 2000;

export class Uploader {
	phase = $state<UploadPhase>('idle');
	loaded = $state(0);
	total = $state(0);
	/** Bytes per second over the last couple of seconds. */
	speed = $state(0);
	result = $state<SentDrop | null>(null);
	error = $state<string | null>(null);

	#xhr: XMLHttpRequest | undefined;
	#samples: { at: number; loaded: number }[] = [];

	get busy(): boolean {
		return this.phase === 'uploading' || this.phase === 'processing';
	}

	/** Send `file` to `/upload/` with the chosen expiry and uses. */
	start(file: File, fields: { expiry: number; uses: number }): void {
		this.#xhr?.abort();
		const form = new FormData();
		// Fields before the file, as curl examples do; the server accepts either order.
		form.append('expiry', String(fields.expiry));
		form.append('uses', String(fields.uses));
		form.append('file', file, file.name);

		const xhr = new XMLHttpRequest();
		this.#xhr = xhr;
		this.phase = 'uploading';
		this.loaded = 0;
		this.total = file.size;
		this.speed = 0;
		this.error = null;
		this.result = null;
		this.#samples = [{ at: performance.now(), loaded: 0 }];

		xhr.upload.addEventListener('progress', (event) => {
			if (this.#xhr !== xhr) return;
			// The request carries a little multipart framing around the file; count the file.
			this.loaded = event.lengthComputable
				? Math.round((event.loaded / event.total) * file.size)
				: Math.min(event.loaded, file.size);
			this.#sample(this.loaded);
		});
		xhr.upload.addEventListener('load', () => {
			// Every byte is sent; the server is finishing (fsync, store) before it answers.
			if (this.#xhr === xhr) this.phase = 'processing';
		});
		xhr.addEventListener('load', () => {
			if (this.#xhr !== xhr) return;
			this.#xhr = undefined;
			let body: unknown;
			try {
				body = JSON.parse(xhr.responseText);
			} catch {
				body = undefined;
			}
			if (xhr.status === 201 && body) {
				this.result = sentFromUpload(body as UploadResponse);
				this.phase = 'done';
			} else {
				this.error = explain(failureFrom(xhr.status, body, xhr.getResponseHeader('retry-after')));
				this.phase = 'failed';
			}
		});
		xhr.addEventListener('error', () => {
			if (this.#xhr !== xhr) return;
			this.#xhr = undefined;
			this.error = NETWORK_FAILURE.message;
			this.phase = 'failed';
		});
		xhr.open('POST', '/upload/');
		xhr.setRequestHeader('Accept', 'application/json');
		xhr.send(form);
	}

	/** Stop the upload; the server discards whatever part it received. */
	cancel(): void {
		const xhr = this.#xhr;
		this.#xhr = undefined;
		xhr?.abort();
		if (this.busy) this.phase = 'cancelled';
	}

	/** Refuse before sending (too large, empty text): shown like a server failure. */
	refuse(message: string): void {
		this.error = message;
		this.phase = 'failed';
	}

	/** Back to the empty form ("send another"). */
	reset(): void {
		this.cancel();
		this.phase = 'idle';
		this.result = null;
		this.error = null;
		this.loaded = 0;
		this.total = 0;
		this.speed = 0;
	}

	#sample(loaded: number): void {
		const now = performance.now();
		this.#samples.push({ at: now, loaded });
		while (this.#samples.length > 2 && now - this.#samples[0]!.at > SPEED_WINDOW_MS) {
			this.#samples.shift();
		}
		const first = this.#samples[0]!;
		const seconds = (now - first.at) / 1000;
		if (seconds > 0.05) this.speed = (loaded - first.loaded) / seconds;
	}
}
