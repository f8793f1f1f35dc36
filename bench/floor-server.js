// The "no work" floors: a trivial Node HTTP server that streams each upload body straight to
// a file and answers 201, and streams a stored file back on download. The same machine, the
// same load generator: Raven Zero's figures are read as ratios of these.
//
//   node bench/floor-server.js <dir> <size,size,...>   prints {"port": N} when listening
import { randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

const [dir = '/tmp/raven-floor', sizes = ''] = process.argv.slice(2);
mkdirSync(dir, { recursive: true });
for (const size of sizes.split(',').filter(Boolean)) {
	writeFileSync(path.join(dir, `stored-${size}.bin`), randomBytes(Number(size)));
}

const server = http.createServer(async (req, res) => {
	try {
		if (req.method === 'POST') {
			const file = path.join(dir, `${randomUUID()}.part`);
			await pipeline(req, createWriteStream(file));
			unlinkSync(file);
			res.writeHead(201, { 'content-type': 'application/json' }).end('{"key":"floor"}');
		} else {
			const size = req.url?.split('/').pop() ?? '0';
			res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
			await pipeline(createReadStream(path.join(dir, `stored-${size}.bin`)), res);
		}
	} catch {
		res.destroy();
	}
});
server.listen(0, '127.0.0.1', () => {
	const address = server.address();
	console.log(JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
