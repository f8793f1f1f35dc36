// The load generator: one process, separate from the server's, that runs one bounded cell
// (N requests at concurrency C against 127.0.0.1) and prints its measurements as JSON.
//
//   node bench/load.js '<json spec>'
//   spec: { op: 'upload'|'download', url, size, concurrency, requests, keys?: string[] }
//
// Upload bodies are built once per cell from one random buffer (multipart framing around it)
// and never copied per request; response bodies are counted and discarded.
import { randomBytes } from 'node:crypto';
import http from 'node:http';

const spec = JSON.parse(process.argv[2] ?? '{}');
const agent = new http.Agent({ keepAlive: true, maxSockets: spec.concurrency });

const payload = randomBytes(spec.size);
const boundary = '----raven-bench-boundary';
const head = Buffer.from(
	`--${boundary}\r\nContent-Disposition: form-data; name="uses"\r\n\r\n5\r\n` +
		`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.bin"\r\n` +
		`Content-Type: application/octet-stream\r\n\r\n`
);
const tail = Buffer.from(`\r\n--${boundary}--\r\n`);

/** @returns {Promise<{ status: number, bytes: number, ms: number, body: string }>} */
function once(index) {
	return new Promise((resolve) => {
		const started = performance.now();
		const isUpload = spec.op === 'upload';
		const url = isUpload ? spec.url : `${spec.url}/${spec.keys[index % spec.keys.length]}`;
		const req = http.request(url, {
			method: isUpload ? 'POST' : 'GET',
			agent,
			headers: isUpload
				? {
						'content-type': `multipart/form-data; boundary=${boundary}`,
						'content-length': head.length + payload.length + tail.length
					}
				: {}
		});
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
async function worker() {
	while (next < spec.requests) {
		const index = next++;
		results.push(await once(index));
	}
}
await Promise.all(Array.from({ length: spec.concurrency }, worker));
const wallMs = performance.now() - started;
agent.destroy();

const expected = spec.op === 'upload' ? 201 : 200;
const ok = results.filter(
	(r) => r.status === expected && (spec.op === 'upload' || r.bytes === spec.size)
);
const keys = spec.op === 'upload' ? ok.map((r) => JSON.parse(r.body).key).filter(Boolean) : [];
console.log(
	JSON.stringify({
		latencies: results.map((r) => r.ms),
		wallMs,
		errors: results.length - ok.length,
		statuses: [...new Set(results.map((r) => r.status))],
		keys
	})
);
