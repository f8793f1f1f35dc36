/**
 * Plain HTTP for tests: node:http (so a test can choose its source address on loopback,
 * 127.0.0.x, to act as another client) and a multipart builder that can send what curl
 * would and what curl cannot (NUL bytes in names, broken bodies).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';

export type Reply = {
	status: number;
	headers: http.IncomingHttpHeaders;
	body: Buffer;
	error?: Error;
};

export type RequestOptions = {
	method?: string;
	headers?: Record<string, string>;
	body?: Buffer | string;
	/** Source address, e.g. 127.0.0.7, to be another client. */
	from?: string;
};

/** Collect a response whole; `error` is set when it broke off before its end. */
export function collectReply(res: http.IncomingMessage): Promise<Reply> {
	return new Promise((resolve) => {
		const parts: Buffer[] = [];
		res.on('data', (part: Buffer) => parts.push(part));
		const finish = (error?: Error) =>
			resolve({
				status: res.statusCode ?? 0,
				headers: res.headers,
				body: Buffer.concat(parts),
				error
			});
		res.on('end', () => finish(res.complete ? undefined : new Error('incomplete')));
		res.on('error', (error) => finish(error));
		res.on('aborted', () => finish(new Error('aborted')));
	});
}

/**
 * The reply to a request being sent: its response collected, or status 0 with the error when
 * the connection broke before any response (the server aborted: an answer too).
 */
export function replyTo(req: http.ClientRequest): Promise<Reply> {
	return new Promise((resolve) => {
		req.on('response', (res) => void collectReply(res).then(resolve));
		req.on('error', (error) => resolve({ status: 0, headers: {}, body: Buffer.alloc(0), error }));
	});
}

/** One request; resolves even when the server breaks the response off (`error` is then set). */
export function request(url: string, options: RequestOptions = {}): Promise<Reply> {
	const req = http.request(url, {
		method: options.method ?? 'GET',
		headers: options.headers,
		localAddress: options.from,
		agent: false
	});
	const reply = replyTo(req);
	if (options.body !== undefined) req.end(options.body);
	else req.end();
	return reply;
}

export function json<T = Record<string, unknown>>(reply: Reply): T {
	return JSON.parse(reply.body.toString('utf8')) as T;
}

export type Part = {
	name: string;
	data: Buffer | string;
	filename?: string;
	contentType?: string;
	/** Sent as `filename*=<this>` (RFC 5987), e.g. UTF-8''evil%00name.txt. */
	filenameStar?: string;
};

/** A multipart/form-data body and its content type. Filenames go in as raw UTF-8 bytes. */
export function multipart(parts: Part[]): { body: Buffer; contentType: string } {
	const boundary = `----raven-test-${randomBytes(8).toString('hex')}`;
	const chunks: Buffer[] = [];
	for (const part of parts) {
		let disposition = `form-data; name="${part.name}"`;
		if (part.filename !== undefined) disposition += `; filename="${part.filename}"`;
		if (part.filenameStar !== undefined) disposition += `; filename*=${part.filenameStar}`;
		let head = `--${boundary}\r\nContent-Disposition: ${disposition}\r\n`;
		if (part.filename !== undefined || part.filenameStar !== undefined)
			head += `Content-Type: ${part.contentType ?? 'application/octet-stream'}\r\n`;
		chunks.push(Buffer.from(`${head}\r\n`, 'utf8'), Buffer.from(part.data), Buffer.from('\r\n'));
	}
	chunks.push(Buffer.from(`--${boundary}--\r\n`));
	return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** POST /upload/ with these multipart parts, in this order. */
export function uploadParts(
	baseUrl: string,
	parts: Part[],
	options: RequestOptions = {}
): Promise<Reply> {
	const { body, contentType } = multipart(parts);
	return request(`${baseUrl}/upload/`, {
		...options,
		method: 'POST',
		headers: { 'content-type': contentType, ...options.headers },
		body
	});
}

/** POST /upload/ with a file (and optional fields); what `curl -F file=@x` does. */
export function upload(
	baseUrl: string,
	file: { data: Buffer | string; filename?: string; contentType?: string },
	fields: Record<string, string> = {},
	options: RequestOptions = {}
): Promise<Reply> {
	const filePart: Part = {
		name: 'file',
		filename: file.filename ?? 'file.bin',
		data: file.data,
		contentType: file.contentType
	};
	const fieldParts = Object.entries(fields).map(([name, data]) => ({ name, data }));
	return uploadParts(baseUrl, [...fieldParts, filePart], options);
}

export type PausedDownload = {
	status: number;
	headers: http.IncomingHttpHeaders;
	/** Read the rest; resolves the whole body, with `error` set when it broke off. */
	resume(): Promise<{ body: Buffer; error?: Error }>;
};

/**
 * Start a download and stop reading at its first bytes; the connection stays open, and TCP
 * back-pressure stalls the server until resume(). `hangUps` gets a way to end the connection,
 * for the test's cleanup should it fail while the download stalls.
 */
export function pausedDownload(
	url: string,
	from: string,
	hangUps: (() => void)[]
): Promise<PausedDownload> {
	return new Promise((resolve, reject) => {
		const req = http.get(url, { agent: false, localAddress: from }, (res) => {
			hangUps.push(() => req.destroy());
			const parts: Buffer[] = [];
			let settle: ((result: { body: Buffer; error?: Error }) => void) | undefined;
			let result: { body: Buffer; error?: Error } | undefined;
			const done = (error?: Error) => {
				if (result) return;
				result = { body: Buffer.concat(parts), error };
				settle?.(result);
			};
			res.on('data', (part: Buffer) => parts.push(part));
			res.on('end', () => done(res.complete ? undefined : new Error('incomplete')));
			res.on('aborted', () => done(new Error('aborted')));
			res.on('error', (error) => done(error));
			res.on('close', () => done(res.complete ? undefined : new Error('closed early')));
			res.once('data', () => {
				res.pause();
				resolve({
					status: res.statusCode ?? 0,
					headers: res.headers,
					resume: () =>
						new Promise((resolveBody) => {
							settle = resolveBody;
							if (result) resolveBody(result);
							else res.resume();
						})
				});
			});
		});
		req.on('error', reject);
	});
}
