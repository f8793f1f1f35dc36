// The in-process floors: what AES-256-GCM, SHA-256 and the server's scrypt cost on this
// machine, measured in this process with nothing else running.
import { createCipheriv, createHash, randomBytes, scrypt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { KiB, MiB } from './cli.js';
import { median, round } from './report.js';

/**
 * The access key's scrypt as the server and the pages run it (N, r, p, key length, salt),
 * imported from src/lib/access-key-params.ts, its one declaration. That module is TypeScript,
 * which plain node cannot import, and by its own contract has no imports: so it is transpiled
 * (typescript's transpileModule, types stripped) and imported from a data: URL. Should it
 * gain an import, this fails loudly rather than measure a copy that may have drifted.
 * @param {string} root the repository
 * @returns {Promise<{ N: number, r: number, p: number, keyLength: number, salt: string }>}
 */
export async function importScryptParams(root) {
	const file = path.join(root, 'src/lib/access-key-params.ts');
	const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
		compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }
	});
	const params = await import(`data:text/javascript,${encodeURIComponent(outputText)}`);
	const { N, r, p } = params.ACCESS_KEY_SCRYPT;
	return { N, r, p, keyLength: params.ACCESS_KEY_BYTES, salt: params.ACCESS_KEY_SALT };
}

/** Median time of `repeats` synchronous runs of `work`, in ms. */
function timeIt(work, repeats = 5) {
	const times = [];
	for (let i = 0; i < repeats; i++) {
		const started = performance.now();
		work();
		times.push(performance.now() - started);
	}
	return median(times);
}

/** Throughput of AES-256-GCM (in 64 KiB chunks, as the file format seals, and in one) and SHA-256. */
export function cryptoFloors() {
	const data = randomBytes(10 * MiB);
	const key = randomBytes(32);
	const chunk = 64 * KiB;
	const sealChunked = () => {
		for (let offset = 0, counter = 0; offset < data.length; offset += chunk, counter++) {
			const nonce = Buffer.alloc(12);
			nonce.writeUIntBE(counter, 5, 6);
			const cipher = createCipheriv('aes-256-gcm', key, nonce);
			cipher.update(data.subarray(offset, offset + chunk));
			cipher.final();
			cipher.getAuthTag();
		}
	};
	const sealOnce = () => {
		const cipher = createCipheriv('aes-256-gcm', key, Buffer.alloc(12));
		cipher.update(data);
		cipher.final();
	};
	const sha = () => createHash('sha256').update(data).digest();
	const aesChunkedMs = timeIt(sealChunked);
	const aesOnceMs = timeIt(sealOnce);
	const shaMs = timeIt(sha);
	return {
		aes_gcm_64k_chunks_mbps: round(10 / (aesChunkedMs / 1000)),
		aes_gcm_single_mbps: round(10 / (aesOnceMs / 1000)),
		sha256_mbps: round(10 / (shaMs / 1000)),
		/** What 10 MiB costs in pure crypto work: seal (64 KiB chunks) + hash. */
		seal_plus_hash_10mib_ms: round(aesChunkedMs + shaMs)
	};
}

/**
 * The median time of one scrypt with the server's parameters, in ms: the cost every upload
 * and every download that brings a passphrase (rather than an access key) pays once.
 * @param {{ N: number, r: number, p: number, keyLength: number, salt: string }} params
 * @param {number} repeats
 */
export async function scryptCost({ N, r, p, keyLength, salt }, repeats) {
	const times = [];
	for (let i = 0; i < repeats; i++) {
		const started = performance.now();
		await new Promise((resolve, reject) =>
			scrypt(
				'ocean-velvet-gravy-amulet',
				salt,
				keyLength,
				{ N, r, p, maxmem: 64 * MiB },
				(error) => (error ? reject(error) : resolve(undefined))
			)
		);
		times.push(performance.now() - started);
	}
	return round(median(times));
}

/**
 * How many scrypts a second the machine runs with `threads` of them at once for about
 * `durationMs` (libuv's pool, as the server runs them). Not cores × 1000 / one scrypt's ms:
 * scrypt is bound by memory (16 MiB each), and two at once on a VM whose neighbours share the
 * memory bus can each take a third longer than one alone.
 * @param {{ N: number, r: number, p: number, keyLength: number, salt: string }} params
 * @param {number} threads
 * @param {number} durationMs
 */
export async function scryptParallelRate({ N, r, p, keyLength, salt }, threads, durationMs) {
	let done = 0;
	const started = performance.now();
	const until = started + durationMs;
	const one = () =>
		new Promise((resolve, reject) =>
			scrypt(`pass-${done}`, salt, keyLength, { N, r, p, maxmem: 64 * MiB }, (error) =>
				error ? reject(error) : resolve(undefined)
			)
		);
	await Promise.all(
		Array.from({ length: threads }, async () => {
			while (performance.now() < until) {
				await one();
				done++;
			}
		})
	);
	return round((done * 1000) / (performance.now() - started));
}
