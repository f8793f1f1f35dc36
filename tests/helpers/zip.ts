/**
 * Reading the zips the send page builds, to check them byte for byte: the central directory
 * (with ZIP64 sizes and offsets), each entry's local header, its stored bytes and its CRC-32
 * (node:zlib's). Stored entries only: the page never compresses.
 */
import { crc32 } from 'node:zlib';

export type ZipEntry = { name: string; data: Buffer; crc: number };

const END = 0x06054b50;
const ZIP64_END = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** Every entry of a zip. Throws when the zip is malformed or a CRC-32 does not match. */
export function readZip(zip: Buffer): ZipEntry[] {
	const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
	if (end < 0 || zip.readUInt32LE(end) !== END) throw new Error('no end of central directory');
	let count = zip.readUInt16LE(end + 10);
	let offset = zip.readUInt32LE(end + 16);
	if (offset === 0xffffffff || count === 0xffff) {
		// ZIP64: the locator just before the end record points at the ZIP64 end record.
		const record = Number(zip.readBigUInt64LE(end - 20 + 8));
		if (zip.readUInt32LE(record) !== ZIP64_END) throw new Error('no ZIP64 end record');
		count = Number(zip.readBigUInt64LE(record + 32));
		offset = Number(zip.readBigUInt64LE(record + 48));
	}
	const entries: ZipEntry[] = [];
	for (let i = 0; i < count; i++) {
		if (zip.readUInt32LE(offset) !== CENTRAL) throw new Error(`bad central header ${i}`);
		if (zip.readUInt16LE(offset + 10) !== 0) throw new Error('a compressed entry');
		const crc = zip.readUInt32LE(offset + 16);
		let size = zip.readUInt32LE(offset + 24);
		const nameLength = zip.readUInt16LE(offset + 28);
		const extraLength = zip.readUInt16LE(offset + 30);
		const commentLength = zip.readUInt16LE(offset + 32);
		let local = zip.readUInt32LE(offset + 42);
		const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
		const extra = zip.subarray(offset + 46 + nameLength, offset + 46 + nameLength + extraLength);
		if (extra.length >= 4 && extra.readUInt16LE(0) === 1) {
			let at = 4;
			if (size === 0xffffffff) {
				size = Number(extra.readBigUInt64LE(at + 8));
				at += 16;
			}
			if (local === 0xffffffff) local = Number(extra.readBigUInt64LE(at));
		}
		if (zip.readUInt32LE(local) !== LOCAL) throw new Error(`bad local header for ${name}`);
		const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
		const data = zip.subarray(start, start + size);
		if (crc32(data) !== crc) throw new Error(`CRC-32 mismatch for ${name}`);
		entries.push({ name, data, crc });
		offset += 46 + nameLength + extraLength + commentLength;
	}
	return entries;
}
