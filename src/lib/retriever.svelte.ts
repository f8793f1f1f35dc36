/**
 * The retrieval page's lookups with JavaScript: `POST /status` (consumes nothing) and
 * `POST /download` (consumes one use), both with the passphrase in a JSON body, never a URL.
 * The download is read with fetch so the page can show progress, read `X-SHA256` and
 * `X-Remaining-Uses`, and check the bytes itself before handing them to the browser.
 */
import {
	infoFromStatus,
	NETWORK_FAILURE,
	readFailure,
	type DropInfo,
	type Failure,
	type StatusResponse
} from './api-client';

export type Downloaded = {
	filename: string;
	size: number;
	/** What the server recorded at upload (X-SHA256). */
	sha256: string;
	/** Whether the bytes received hash to it; null where the browser cannot hash (plain http). */
	verified: boolean | null;
	remainingUses: number;
};

export class Retriever {
	checking = $state(false);
	downloading = $state(false);
	received = $state(0);
	info = $state<DropInfo | null>(null);
	failure = $state<Failure | null>(null);
	downloaded = $state<Downloaded | null>(null);

	/** Forget the last answer (the passphrase was edited). */
	clear(): void {
		this.info = null;
		this.failure = null;
		this.downloaded = null;
	}

	async check(passphrase: string): Promise<void> {
		this.checking = true;
		this.failure = null;
		this.downloaded = null;
		try {
			const response = await post('/status', passphrase);
			if (response.ok) {
				this.info = infoFromStatus((await response.json()) as StatusResponse);
			} else {
				this.info = null;
				this.failure = await readFailure(response);
			}
		} catch {
			this.info = null;
			this.failure = NETWORK_FAILURE;
		} finally {
			this.checking = false;
		}
	}

	async download(passphrase: string): Promise<void> {
		this.downloading = true;
		this.received = 0;
		this.failure = null;
		try {
			const response = await post('/download', passphrase);
			if (!response.ok || !response.body) {
				this.failure = await readFailure(response);
				// The drop changed under us (taken, expired): say so in the card as well.
				if (this.failure.code === 'ALREADY_DOWNLOADED') this.#markGone('burned');
				if (this.failure.code === 'EXPIRED') this.#markGone('expired');
				return;
			}
			const chunks: Uint8Array<ArrayBuffer>[] = [];
			const reader = response.body.getReader();
			for (;;) {
				const { done, value } = await reader.read();
				if (done) break;
				chunks.push(value as Uint8Array<ArrayBuffer>);
				this.received += value.byteLength;
			}
			const filename = this.info?.filename ?? filenameFrom(response) ?? 'download';
			const type = response.headers.get('content-type') ?? 'application/octet-stream';
			const blob = new Blob(chunks, { type });
			const sha256 = response.headers.get('x-sha256') ?? '';
			const remainingUses = Number(response.headers.get('x-remaining-uses') ?? 0);
			const verified = await verify(blob, sha256);
			// Bytes that fail their hash are never handed over (the server aborts first anyway).
			if (verified !== false) save(blob, filename);
			this.downloaded = { filename, size: blob.size, sha256, verified, remainingUses };
			if (this.info) {
				this.info = {
					...this.info,
					remainingUses,
					status: remainingUses === 0 ? 'burned' : this.info.status
				};
			}
		} catch {
			// A broken transfer: the server aborts rather than send bytes that fail their check.
			this.failure = {
				...NETWORK_FAILURE,
				message:
					'The download broke off before the end. Nothing was saved. The use may still have been counted.'
			};
		} finally {
			this.downloading = false;
		}
	}

	#markGone(status: 'burned' | 'expired'): void {
		if (this.info) this.info = { ...this.info, status, remainingUses: 0 };
	}
}

function post(path: string, passphrase: string): Promise<Response> {
	return fetch(path, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
		body: JSON.stringify({ passphrase }),
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
