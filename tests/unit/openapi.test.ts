/**
 * The OpenAPI document against the source: every error code the server can answer is listed
 * (under the status it is answered with, where the code names the status), so a new refusal
 * cannot be added without documenting it. The integration test checks real answers.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { documentFor, OPENAPI_DOCUMENT } from '../../src/lib/server/openapi';

const ROOT = path.resolve(import.meta.dirname, '../..');

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

/** `(status, code)` of every refusal written in the server code (status undefined if computed). */
function codesInSource(): { file: string; status: string | undefined; code: string }[] {
	const files: string[] = [];
	const walk = (dir: string) => {
		for (const entry of readdirSync(dir, { withFileTypes: true })) {
			const full = path.join(dir, entry.name);
			if (entry.isDirectory()) walk(full);
			else if (entry.name.endsWith('.ts')) files.push(full);
		}
	};
	walk(path.join(ROOT, 'src/lib/server'));
	walk(path.join(ROOT, 'src/routes'));
	const patterns = [
		/\b(?:jsonError|fail|UploadError)\(\s*(\d{3}|[\w.]+),\s*'([A-Z][A-Z0-9_]+)'/g,
		/\bbad\(\s*()'([A-Z][A-Z0-9_]+)'/g,
		/\bcode: ()'([A-Z][A-Z0-9_]+)'/g
	];
	const found: { file: string; status: string | undefined; code: string }[] = [];
	for (const file of files.filter((f) => !f.endsWith('+page.server.ts'))) {
		const source = readFileSync(file, 'utf8');
		for (const pattern of patterns) {
			for (const match of source.matchAll(pattern)) {
				const status = /^\d{3}$/.test(match[1] ?? '') ? match[1] : undefined;
				// `bad()` in upload.ts is always a 400.
				const implied = pattern.source.startsWith('\\bbad') ? '400' : status;
				found.push({ file: path.relative(ROOT, file), status: implied, code: match[2]! });
			}
		}
	}
	return found;
}

describe('the OpenAPI document and the source', () => {
	test('every error code in the server code is documented, under its status', () => {
		const documented = documentedCodes();
		const all = new Set([...documented.values()].flatMap((codes) => [...codes]));
		const inSource = codesInSource();
		expect(inSource.length).toBeGreaterThan(20);
		for (const { file, status, code } of inSource) {
			expect(all.has(code), `${code} (${file}) is not in /openapi.json`).toBe(true);
			if (status) {
				expect(
					documented.get(status)?.has(code),
					`${code} (${file}) is not documented under ${status}`
				).toBe(true);
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
