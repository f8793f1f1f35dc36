/**
 * The upload form's `kind` and `contents` fields: what a drop holds (a file, text, or a zip of
 * several files) and, for a zip, the names and sizes of its files. Both are sealed with the
 * metadata, so the server keeps them as it keeps the file name: readable only with the
 * passphrase. Read here, bounded (drop-bounds.ts CONTENTS) and sanitised before anything is
 * stored.
 */
import { Check } from 'typebox/value';
import { CONTENTS, DROP_KINDS, type ContentsEntry, type DropKind } from '../drop-bounds';
import { Contents } from '../schemas';
import { sanitizeEntryPath } from './filename';

/** The `kind` field's value, or undefined when it is none of DROP_KINDS. */
export function parseKind(value: string): DropKind | undefined {
	const trimmed = value.trim().toLowerCase();
	return (DROP_KINDS as readonly string[]).includes(trimmed) ? (trimmed as DropKind) : undefined;
}

/**
 * The `contents` field's value: JSON, an array of `{name, size}` within the schema's bounds
 * (at most CONTENTS.maxEntries, names of at most CONTENTS.maxNameBytes characters), each name
 * sanitised as a path inside the zip. Undefined when it is not that. The field's byte bound
 * (CONTENTS.maxBytes) is busboy's, before this is called.
 */
export function parseContents(value: string): ContentsEntry[] | undefined {
	let parsed: unknown;
	try {
		parsed = JSON.parse(value);
	} catch {
		return undefined;
	}
	if (!Check(Contents, parsed)) return undefined;
	return parsed.map(({ name, size }) => ({
		name: sanitizeEntryPath(name, CONTENTS.maxNameBytes),
		size
	}));
}

/**
 * What a drop's form said it holds, once both fields are read: `contents` goes with an
 * archive (and makes one when `kind` is not sent); an archive without a list is still an
 * archive. Undefined when `contents` came with `file` or `text`.
 */
export function settleKind(
	kind: DropKind | undefined,
	contents: ContentsEntry[] | undefined
): DropKind | undefined {
	if (contents === undefined) return kind ?? 'file';
	return kind === undefined || kind === 'archive' ? 'archive' : undefined;
}
