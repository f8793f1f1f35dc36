/**
 * A QR code of a share link as an SVG data URL, drawn here from the `qrcode` package's
 * module matrix. `QRCode.create` is synchronous, so the code renders on the server too (the
 * page without JavaScript shows it) and needs no `{@html}`: the page shows it as an <img>,
 * which the CSP allows (`img-src data:`).
 */
import QRCode from 'qrcode';

/** Modules of white border every scanner expects around the symbol. */
const QUIET_ZONE = 4;

export function qrSvgDataUrl(text: string): string {
	const { size, data } = QRCode.create(text, { errorCorrectionLevel: 'M' }).modules;
	let path = '';
	for (let row = 0; row < size; row++) {
		for (let col = 0; col < size; col++) {
			if (data[row * size + col]) path += `M${col + QUIET_ZONE} ${row + QUIET_ZONE}h1v1h-1z`;
		}
	}
	const side = size + 2 * QUIET_ZONE;
	// Dark on white whatever the page theme: phone cameras read that best.
	const svg =
		`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${side} ${side}" shape-rendering="crispEdges">` +
		`<rect width="${side}" height="${side}" fill="#fff"/><path d="${path}" fill="#000"/></svg>`;
	return `data:image/svg+xml;base64,${toBase64(svg)}`;
}

/** Base64 of an ASCII string, in the browser and in Node alike. */
function toBase64(ascii: string): string {
	return typeof btoa === 'function' ? btoa(ascii) : Buffer.from(ascii, 'latin1').toString('base64');
}
