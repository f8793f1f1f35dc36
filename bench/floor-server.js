// The "no work" floors: a trivial Node HTTP server that streams each upload body straight to
// storage and answers 201, and streams a stored file back on download. The same machine, the
// same load generator: Raven Zero's figures are read as ratios of these.
//
//   node bench/floor-server.js <dir> <size,size,...>   prints {"port": N} when listening
//
// Storage: files in <dir> (each upload is written, then deleted, so that its write-back does
// not land on the next cell), or with FLOOR_STORAGE=s3 the bucket of S3_BUCKET on S3_ENDPOINT
// (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY): each upload is one streamed PutObject of the
// request body, then deleted, and a download is a GetObject piped out: the engine's raw PUT
// and GET, through the same SDK the server uses.
import { randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

const [dir = '/tmp/raven-floor', sizes = ''] = process.argv.slice(2);
const storage = process.env.FLOOR_STORAGE === 's3' ? await s3Storage() : diskStorage();
for (const size of sizes.split(',').filter(Boolean)) {
	await storage.keep(`stored-${size}.bin`, randomBytes(Number(size)));
}

function diskStorage() {
	mkdirSync(dir, { recursive: true });
	return {
		keep: (name, data) => writeFileSync(path.join(dir, name), data),
		async sink(req) {
			const file = path.join(dir, `${randomUUID()}.part`);
			await pipeline(req, createWriteStream(file));
			unlinkSync(file);
		},
		open: (name) => createReadStream(path.join(dir, name))
	};
}

async function s3Storage() {
	const { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } =
		await import('@aws-sdk/client-s3');
	const Bucket = process.env.S3_BUCKET;
	const client = new S3Client({
		endpoint: process.env.S3_ENDPOINT,
		region: process.env.S3_REGION ?? 'us-east-1',
		forcePathStyle: true,
		// A streamed PutObject with the SDK's default checksums is sent aws-chunked, which
		// several engines refuse; the floor sends plain bytes.
		requestChecksumCalculation: 'WHEN_REQUIRED',
		responseChecksumValidation: 'WHEN_REQUIRED',
		requestHandler: { httpAgent: new http.Agent({ keepAlive: true, maxSockets: 1024 }) }
	});
	return {
		keep: (name, data) => client.send(new PutObjectCommand({ Bucket, Key: name, Body: data })),
		async sink(req) {
			const Key = `floor/${randomUUID()}`;
			const ContentLength = Number(req.headers['content-length']);
			await client.send(new PutObjectCommand({ Bucket, Key, Body: req, ContentLength }));
			await client.send(new DeleteObjectCommand({ Bucket, Key }));
		},
		async open(name) {
			const object = await client.send(new GetObjectCommand({ Bucket, Key: name }));
			return object.Body;
		}
	};
}

const server = http.createServer(async (req, res) => {
	try {
		if (req.method === 'POST') {
			await storage.sink(req);
			res.writeHead(201, { 'content-type': 'application/json' }).end('{"key":"floor"}');
		} else {
			const size = req.url?.split('/').pop() ?? '0';
			const body = await storage.open(`stored-${size}.bin`);
			res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
			await pipeline(body, res);
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
