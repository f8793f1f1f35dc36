/**
 * The OpenAPI document against the error catalogue: every error code the server can answer is
 * listed under the status it is answered with, so a new refusal cannot be added without
 * documenting it. The integration test checks real answers.
 */
import { describe, expect, test } from 'vitest';
import { ERRORS, isErrorCode, type ErrorCode } from '../../src/lib/errors';
import { documentFor, OPENAPI_DOCUMENT } from '../../src/lib/server/openapi/document';

type Node = Record<string, unknown>;

function deref(node: unknown): Node {
	let current = node as Node;
	while (typeof current?.$ref === 'string') {
		let target: unknown = OPENAPI_DOCUMENT;
		for (const part of current.$ref.slice(2).split('/')) target = (target as Node)[part];
		current = target as Node;
	}
	return current;
}

/** The error codes a schema allows: `error_code` enums and consts, through refs and oneOf. */
function codesOf(schema: unknown): string[] {
	// Read the node before following its $ref: `{ $ref: Error, properties: { error_code } }`
	// narrows the shared shape with a sibling enum.
	const node = schema as Node;
	if (!node || typeof node !== 'object') return [];
	if (typeof node.$ref === 'string' && !node.properties) return codesOf(deref(node));
	const own = (node.properties as Node | undefined)?.error_code as Node | undefined;
	const codes = [...((own?.enum as string[]) ?? []), ...(own?.const ? [own.const as string] : [])];
	const branches = [...((node.oneOf as unknown[]) ?? []), ...((node.anyOf as unknown[]) ?? [])];
	return [...codes, ...branches.flatMap(codesOf)];
}

/** status -> codes documented for it, across every operation (plus unmatched paths: 404). */
function documentedCodes(): Map<string, Set<string>> {
	const byStatus = new Map<string, Set<string>>();
	const add = (status: string, response: unknown) => {
		const content = (deref(response).content ?? {}) as Record<string, Node>;
		for (const media of Object.values(content)) {
			for (const code of codesOf(media.schema)) {
				byStatus.set(status, (byStatus.get(status) ?? new Set()).add(code));
			}
		}
	};
	for (const item of Object.values(OPENAPI_DOCUMENT.paths)) {
		for (const operation of Object.values(item)) {
			for (const [status, response] of Object.entries(operation?.responses ?? {}))
				add(status, response);
		}
	}
	add('404', OPENAPI_DOCUMENT.components.responses.NotFound);
	return byStatus;
}

describe('the OpenAPI document and the error catalogue', () => {
	// The server can only refuse with a code of the catalogue ($lib/errors: TypeScript holds
	// every refuse(), refusalError() and errorResponse() to it), so the catalogue is the list
	// of what the server can answer.
	test('every code of the catalogue is documented, under its status', () => {
		const documented = documentedCodes();
		const all = new Set([...documented.values()].flatMap((codes) => [...codes]));
		const codes = Object.keys(ERRORS) as ErrorCode[];
		expect(codes.length).toBeGreaterThan(20);
		for (const code of codes) {
			expect(all.has(code), `${code} is not in /openapi.json`).toBe(true);
			const status = String(ERRORS[code].status);
			expect(documented.get(status)?.has(code), `${code} is not documented under ${status}`).toBe(
				true
			);
		}
	});

	test('the document names no code the catalogue does not have, nor under another status', () => {
		for (const [status, codes] of documentedCodes()) {
			for (const code of codes) {
				expect(isErrorCode(code), `${code} is not in the catalogue`).toBe(true);
				if (isErrorCode(code)) expect(String(ERRORS[code].status), code).toBe(status);
			}
		}
	});

	test('servers is the origin it is served for; the rest is the fixed document', () => {
		const served = documentFor('https://drop.example.org');
		expect(served.servers).toEqual([
			{ url: 'https://drop.example.org', description: 'This server' }
		]);
		expect(served.paths).toBe(OPENAPI_DOCUMENT.paths);
		expect(served.openapi).toBe('3.1.0');
	});
});
