/**
 * Shaping the use cases' answers into HTTP: the seed's JSON for successes and the headers of
 * a download (refusals: refusals.ts).
 */
import { getConfig } from '../config';
import type { DropDownload, DropMetadata } from '../drops';
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
