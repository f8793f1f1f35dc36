/**
 * What the resilience tests share besides their processes (tests/helpers/processes.js):
 * uploads that arrive slowly, passphrases that name no drop, random data, folder listings.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { multipart, replyTo, type Reply } from '../helpers/http';
import { ROOT } from '../helpers/processes.js';

/** File names in a folder (none when it does not exist). */
export function filesIn(dir: string): string[] {
	try {
		return readdirSync(dir).sort();
	} catch {
		return [];
	}
}

// ------------------------------------------------------------------------------ passphrases

const WORDS = readFileSync(path.join(ROOT, 'data/diceware_words.txt'), 'utf8')
	.split('\n')
	.map((line) => line.split('\t')[1]?.trim() ?? '')
	.filter((word) => /^[a-z]+$/.test(word));

/** A well-formed passphrase that (almost surely) names no drop: a failed lookup, not a 400. */
export function unknownPassphrase(words = 4): string {
	return Array.from({ length: words }, () => WORDS[randomInt(WORDS.length)]).join('-');
}

export function randomWord(): string {
	return WORDS[randomInt(WORDS.length)]!;
}

// ------------------------------------------------------------------------------ slow upload

export type SlowUpload = {
	/** Resolves once the first part of the body has been handed to the socket. */
	started: Promise<void>;
	/** Send the rest of the body; the reply resolves afterwards. */
	finish(): void;
	/** Break the connection off. */
	abort(): void;
	/** The answer, or status 0 with `error` when the connection broke first. */
	reply: Promise<Reply>;
};

/**
 * A multipart upload of `data` sent in two halves: the first at once, the rest when
 * `finish()` is called, so the test can act while the server is mid-stream.
 */
export function slowUpload(
	baseUrl: string,
	data: Buffer,
	options: { fields?: Record<string, string>; from?: string; firstBytes?: number } = {}
): SlowUpload {
	const { body, contentType } = multipart([
		...Object.entries(options.fields ?? {}).map(([name, value]) => ({ name, data: value })),
		{ name: 'file', filename: 'slow.bin', data }
	]);
	const split = options.firstBytes ?? Math.floor(body.length / 2);
	let resolveStarted!: () => void;
	const started = new Promise<void>((resolve) => (resolveStarted = resolve));
	let req!: http.ClientRequest;
	const reply = new Promise<Reply>((resolve) => {
		req = http.request(`${baseUrl}/upload/`, {
			method: 'POST',
			agent: false,
			localAddress: options.from,
			headers: { 'content-type': contentType, 'content-length': String(body.length) }
		});
		void replyTo(req).then(resolve);
		req.flushHeaders();
		req.write(body.subarray(0, split), () => resolveStarted());
	});
	return {
		started,
		reply,
		finish: () => {
			if (!req.destroyed) req.end(body.subarray(split));
		},
		abort: () => req.destroy()
	};
}

export function randomData(bytes: number): Buffer {
	return randomBytes(bytes);
}
