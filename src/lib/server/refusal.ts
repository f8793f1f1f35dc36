/**
 * The one shape of "refused" on the server. The domain (drops, upload, limits) returns a
 * `Refusal` naming a code of the catalogue ($lib/errors); http/refusal-response.ts turns it
 * into the JSON answer or the no-JavaScript redirect. Expected failures are values; bugs and
 * store outages throw (a StoreUnavailableError becomes STORE_UNAVAILABLE in `guarded`).
 */
import { ERRORS, type ErrorCode, type RefusalFields } from '../errors';

export type Refusal = RefusalFields & {
	ok: false;
	/** Informational headers of the limit that refused (RateLimit-*). */
	headers?: Record<string, string>;
};

/** A use case's answer: what was asked for, or why not. */
export type Outcome<T> = ({ ok: true } & T) | Refusal;

export function refuse(code: ErrorCode, more: Omit<Refusal, 'ok' | 'code'> = {}): Refusal {
	return { ok: false, code, ...more };
}

/** The HTTP status of a refusal (from the catalogue). */
export function statusOf(refusal: Refusal): number {
	return ERRORS[refusal.code].status;
}

/** The sentence of a refusal: its own, or the catalogue's. */
export function detailOf(refusal: Refusal): string {
	return refusal.detail ?? ERRORS[refusal.code].detail;
}

/**
 * A refusal thrown from inside a stream (the upload's size and type checks run in transforms,
 * where returning a value is not possible); caught and returned as a value by the use case.
 */
export class RefusalError extends Error {
	override name = 'RefusalError';
	constructor(readonly refusal: Refusal) {
		super(detailOf(refusal));
	}
}

export function refusalError(code: ErrorCode, detail?: string): RefusalError {
	return new RefusalError(refuse(code, detail === undefined ? {} : { detail }));
}
