/**
 * Shaping the use cases' answers into HTTP: the JSON bodies of successes, one typed function
 * per wire shape of $lib/schemas (so TypeScript catches a field missing or added), and the
 * headers of a download (refusals: refusals.ts).
 */
import type { CreatedDropBody, DropPreviewBody, DropStatusBody } from '../../schemas';
import { getConfig } from '../config';
import type { CreatedDrop, DropDownload, DropMetadata, DropPreview, DropStatus } from '../drops';
import { contentDisposition } from '../filename';

/** The base of the URLs we hand out: ORIGIN when set (behind a proxy), else the request's. */
export function publicOrigin(url: URL): string {
	return getConfig().origin?.replace(/\/+$/, '') ?? url.origin;
}

/** The passphrase in a URL path segment: hyphens and letters only, but encode to be sure. */
export function dropUrls(url: URL, passphrase: string) {
	const base = publicOrigin(url);
	const key = encodeURIComponent(passphrase);
	return { preview_url: `${base}/preview/${key}`, download_url: `${base}/download/${key}` };
}

/**
 * `POST /upload/` -> 201: what was stored, with the passphrase (shown this once) and its links
 * when the server drew it; a sender that sent its access key gets neither, as we cannot know them.
 */
export function createdDropBody(url: URL, created: CreatedDrop): CreatedDropBody {
	const { passphrase, metadata, expiresAt } = created;
	return {
		...(passphrase === null ? {} : { key: passphrase, ...dropUrls(url, passphrase) }),
		expiry: metadata.expiry_minutes,
		uses: metadata.uses,
		filename: metadata.filename,
		size: metadata.size,
		mime_type: metadata.mime_type,
		created_at: metadata.created_at,
		expires_at: expiresAt.toISOString(),
		sha256: metadata.sha256
	};
}

/** `/status` -> 200: what is known about a drop; its details only while it is active. */
export function dropStatusBody(status: DropStatus): DropStatusBody {
	return {
		key: status.passphrase,
		status: status.status,
		remaining_uses: status.remainingUses,
		expires_at: status.expiresAt?.toISOString() ?? null,
		is_accessible: status.status === 'active',
		filename: status.metadata?.filename ?? null,
		size: status.metadata?.size ?? null,
		mime_type: status.metadata?.mime_type ?? null,
		sha256: status.metadata?.sha256 ?? null,
		// Drops sealed before `kind` existed are files.
		kind: status.metadata ? (status.metadata.kind ?? 'file') : null,
		contents: status.metadata?.contents ?? null
	};
}

/** `/preview/{key}` -> 200: the metadata, with the download link and a curl line for it. */
export function dropPreviewBody(url: URL, preview: DropPreview): DropPreviewBody {
	const { metadata, expiresAt, remainingUses, passphrase } = preview;
	const { download_url } = dropUrls(url, passphrase);
	return {
		filename: metadata.filename,
		size: metadata.size,
		mime_type: metadata.mime_type,
		expiry: metadata.expiry_minutes,
		uses: remainingUses,
		minutes_left: Math.max(0, Math.ceil((expiresAt.getTime() - Date.now()) / 60_000)),
		expires_at: expiresAt.toISOString(),
		download_url,
		curl_example: `curl -OJ ${download_url}`,
		created_at: metadata.created_at,
		sha256: metadata.sha256
	};
}

/** Headers of a download: always an attachment, never rendered, never sniffed. */
export function downloadHeaders(download: DropDownload): Record<string, string> {
	const metadata: DropMetadata = download.metadata;
	return {
		'Content-Type': metadata.mime_type,
		'Content-Length': String(metadata.size),
		'Content-Disposition': contentDisposition(metadata.filename),
		'X-SHA256': metadata.sha256,
		'X-Remaining-Uses': String(download.remainingUses),
		// Should a browser render it anyway, it gets no scripts, no plugins, no same origin.
		'Content-Security-Policy': "default-src 'none'; sandbox",
		'X-Content-Type-Options': 'nosniff'
	};
}
