/**
 * The JSON error shape of the API: `{ "error_code": "UPPER_SNAKE", "detail": "sentence" }`.
 * Expected failures are returned as values with jsonError(); bugs throw into handleError.
 */

export type ErrorBody = { error_code: string; detail: string } & Record<string, unknown>;

/** A JSON error response with the given status, code and human sentence (plus extra fields). */
export function jsonError(
	status: number,
	errorCode: string,
	detail: string,
	init: { headers?: Record<string, string>; extra?: Record<string, unknown> } = {}
): Response {
	const body: ErrorBody = { error_code: errorCode, detail, ...init.extra };
	return Response.json(body, { status, headers: init.headers });
}
