// The load generator: one process, separate from the server's, that runs one bounded cell
// (N requests at concurrency C against 127.0.0.1) and prints its measurements as JSON.
// Each of the C clients connects from its own loopback address (127.0.1.1, 127.0.1.2, ...):
// C clients are C browsers, and the server gives one address only KDF_CONCURRENCY lookups or
// uploads at a time (client-gate.ts), which would otherwise measure one address's queue.
//
//   node bench/load.js '<json spec>'
//   spec: { op: 'upload'|'download', way: 'passphrase'|'access'|'raw', url, size,
//           concurrency, requests, keys?: string[], scrypt?: { N, r, p, keyLength, salt } }
//
// Two ways of calling, as the two kinds of client do (issue #11):
//   passphrase  curl's: uploads get a passphrase drawn by the server (`key` in the 201) and
//               downloads GET /download/<passphrase>, so the server runs one scrypt each;
//   access      the pages': before the clock starts, one passphrase per upload is drawn and its
//               access key derived (scrypt with the app's parameters, as the page's worker
//               does); uploads send it in X-Access-Key, downloads POST /download with it in
//               X-Access-Key. The server runs no scrypt.
//   raw         the floor server's: a plain POST of the body, a GET of /download/<size>.
// `keys` are what downloads name: the passphrases or access keys the uploads of the same way
// created, or the floor's file size.
//
// Upload bodies are built once per cell from one random buffer (multipart framing around it)
// and never copied per request; response bodies are counted and discarded.
import { randomBytes, scrypt } from 'node:crypto';
import http from 'node:http';
import { promisify } from 'node:util';

const spec = JSON.parse(process.argv[2] ?? '{}');
/** One keep-alive connection per client, from that client's own address. */
const agents = Array.from(
	{ length: spec.concurrency },
	(_, client) =>
		new http.Agent({
			keepAlive: true,
			maxSockets: 1,
			localAddress: `127.0.${1 + Math.floor(client / 250)}.${1 + (client % 250)}`
		})
);
const isUpload = spec.op === 'upload';

const payload = randomBytes(spec.size);
const boundary = '----raven-bench-boundary';
const head = Buffer.from(
	`--${boundary}\r\nContent-Disposition: form-data; name="uses"\r\n\r\n5\r\n` +
		`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.bin"\r\n` +
		`Content-Type: application/octet-stream\r\n\r\n`
);
const tail = Buffer.from(`\r\n--${boundary}--\r\n`);

/**
 * The access keys the uploads of an `access` cell send, derived before timing. The passphrase
 * is four random words' worth of entropy in hex: the server never sees it, only its key, and
 * scrypt costs the same whatever it is given.
 */
async function accessKeysFor(count) {
	const { N, r, p, keyLength, salt } = spec.scrypt;
	const derive = promisify(scrypt);
	const keys = [];
	for (let i = 0; i < count; i++) {
		const passphrase = randomBytes(8).toString('hex');
		const key = await derive(passphrase, salt, keyLength, { N, r, p, maxmem: 256 * N * r });
		keys.push(key.toString('base64url'));
	}
	return keys;
}
const uploadKeys = isUpload && spec.way === 'access' ? await accessKeysFor(spec.requests) : [];

/** Method, path and headers of request `index`. */
function requestFor(index) {
	if (isUpload) {
		const headers = {
			'content-type': `multipart/form-data; boundary=${boundary}`,
			'content-length': head.length + payload.length + tail.length
		};
		if (spec.way === 'access') headers['x-access-key'] = uploadKeys[index];
		return { method: 'POST', url: spec.url, headers };
	}
	const key = spec.keys[index % spec.keys.length];
	if (spec.way === 'access') {
		return { method: 'POST', url: spec.url, headers: { 'x-access-key': key } };
	}
	return { method: 'GET', url: `${spec.url}/${key}`, headers: {} };
}

/** @returns {Promise<{ status: number, bytes: number, ms: number, body: string }>} */
function once(index, agent) {
	return new Promise((resolve) => {
		const started = performance.now();
		const { method, url, headers } = requestFor(index);
		const req = http.request(url, { method, agent, headers });
		req.on('response', (res) => {
			let bytes = 0;
			let body = '';
			res.on('data', (part) => {
				bytes += part.length;
				if (isUpload && body.length < 4096) body += part.toString('utf8');
			});
			res.on('end', () =>
				resolve({ status: res.statusCode ?? 0, bytes, ms: performance.now() - started, body })
			);
			res.on('error', () => resolve({ status: 0, bytes, ms: performance.now() - started, body }));
		});
		req.on('error', () =>
			resolve({ status: 0, bytes: 0, ms: performance.now() - started, body: '' })
		);
		if (isUpload) {
			req.write(head);
			req.write(payload);
			req.end(tail);
		} else {
			req.end();
		}
	});
}

const results = [];
let next = 0;
const started = performance.now();
async function client(agent) {
	while (next < spec.requests) {
		const index = next++;
		results.push({ index, ...(await once(index, agent)) });
	}
}
await Promise.all(agents.map(client));
const wallMs = performance.now() - started;
for (const agent of agents) agent.destroy();

const expected = isUpload ? 201 : 200;
const ok = results.filter((r) => r.status === expected && (isUpload || r.bytes === spec.size));
/** What the downloads of this way will name: the server's passphrases, or our access keys. */
const keys = !isUpload
	? []
	: spec.way === 'access'
		? ok.map((r) => uploadKeys[r.index])
		: ok.map((r) => JSON.parse(r.body).key).filter(Boolean);
console.log(
	JSON.stringify({
		latencies: results.map((r) => r.ms),
		wallMs,
		errors: results.length - ok.length,
		statuses: [...new Set(results.map((r) => r.status))],
		keys
	})
);
