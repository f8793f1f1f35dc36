/**
 * What a drop holds (issue #13): the upload form's `kind` and `contents` fields, against the
 * built server and a real Redis. A text drop and a zip's list of names come back from `status`
 * (by passphrase and by access key) and on the retrieval page's check; they are sealed like
 * the file name (nothing readable in Redis or the log); bad values are 400s with their own
 * codes; a curl upload without them answers and stores exactly as before.
 */
import { describe, expect, test } from 'vitest';
import { CONTENTS } from '../../src/lib/drop-bounds';
import { accessKeyFromPassphrase, encodeAccessKey } from '../../src/lib/server/crypto/access-key';
import { json, request, upload, uploadParts, type Reply } from '../helpers/http';
import { serverForTests } from '../helpers/running';

const { server, redis } = serverForTests({ UPLOAD_RATE_LIMIT: '1000/hour' });

let nextClient = 1;
/** A fresh loopback source address per upload, so no limit earned in one test shows in another. */
const client = () => `127.0.9.${nextClient++}`;

type Created = { key: string; filename: string };
type Status = Record<string, unknown> & { kind: string | null; contents: unknown };

async function created(reply: Reply): Promise<Created> {
	expect(reply.status, reply.body.toString()).toBe(201);
	return json<Created>(reply);
}

const statusOf = async (key: string) =>
	json<Status>(await request(`${server.url}/status/${key}`, { from: client() }));

/** Everything Redis holds, keys and values, as one string. */
async function everythingInRedis(): Promise<string> {
	const store = redis.client();
	const out: string[] = [];
	for (const key of await store.keys('*')) {
		out.push(key);
		const type = await store.type(key);
		if (type === 'string') out.push((await store.get(key)) ?? '');
		else if (type === 'hash') out.push(JSON.stringify(await store.hgetall(key)));
	}
	return out.join('\n');
}

describe('kind and contents', () => {
	test('a zip with its list: status answers the list, sealed, names cleaned as file names', async () => {
		const contents = [
			{ name: 'holiday/plan.txt', size: 500 },
			{ name: 'holiday/day two/map.bin', size: 2048 },
			// Climbing out, a bidi override and a Windows separator: cleaned, not refused.
			{ name: '../../etc/passwd', size: 1 },
			{ name: 'invoice\u202Efdp.exe', size: 2 },
			{ name: 'C:\\Users\\me\\secret-list.txt', size: 3 }
		];
		const reply = await uploadParts(
			server.url,
			[
				{ name: 'kind', data: 'archive' },
				{ name: 'contents', data: JSON.stringify(contents) },
				{ name: 'file', filename: 'holiday.zip', data: Buffer.from('PK\x05\x06' + '\0'.repeat(18)) }
			],
			{ from: client() }
		);
		const { key } = await created(reply);
		const cleaned = [
			{ name: 'holiday/plan.txt', size: 500 },
			{ name: 'holiday/day two/map.bin', size: 2048 },
			{ name: 'etc/passwd', size: 1 },
			{ name: 'invoicefdp.exe', size: 2 },
			{ name: 'C:/Users/me/secret-list.txt', size: 3 }
		];
		expect(await statusOf(key)).toMatchObject({ kind: 'archive', contents: cleaned });

		// By access key too (the pages' way).
		const accessKey = encodeAccessKey(await accessKeyFromPassphrase(key));
		const byKey = await request(`${server.url}/status`, {
			method: 'POST',
			from: client(),
			headers: { 'x-access-key': accessKey }
		});
		expect(json(byKey)).toMatchObject({ key: null, kind: 'archive', contents: cleaned });

		// Sealed: neither Redis nor the log holds a name of the list.
		const stored = await everythingInRedis();
		const logged = JSON.stringify(server.lines);
		for (const secret of ['secret-list', 'map.bin', 'plan.txt', 'holiday']) {
			expect(stored).not.toContain(secret);
			expect(logged).not.toContain(secret);
		}
	});

	test('contents alone makes an archive; kind=text marks text; curl still gets the bytes', async () => {
		const zip = await created(
			await upload(
				server.url,
				{ data: 'zip bytes', filename: 'files.zip' },
				{ contents: '[{"name":"a.txt","size":1}]' },
				{ from: client() }
			)
		);
		expect(await statusOf(zip.key)).toMatchObject({ kind: 'archive' });

		const text = 'Meet at 7 — “bring the key” 🐦\n';
		const note = await created(
			await upload(
				server.url,
				{ data: text, filename: 'message.txt' },
				{ kind: 'text' },
				{ from: client() }
			)
		);
		expect(await statusOf(note.key)).toMatchObject({
			status: 'active',
			kind: 'text',
			contents: null,
			mime_type: 'text/plain'
		});
		const download = await request(`${server.url}/download/${note.key}`, { from: client() });
		expect(download.status).toBe(200);
		expect(download.body.toString('utf8')).toBe(text);
		expect(download.headers['content-disposition']).toContain('message.txt');
		// Burned: status has nothing to tell, kind included.
		expect(await statusOf(note.key)).toMatchObject({
			status: 'burned',
			kind: null,
			contents: null
		});
	});

	test('an upload without the fields answers as before and is a file', async () => {
		const reply = await upload(
			server.url,
			{ data: 'plain', filename: 'plain.txt' },
			{},
			{
				from: client()
			}
		);
		const body = await created(reply);
		expect(Object.keys(body).sort()).toEqual(
			[
				'key',
				'preview_url',
				'download_url',
				'expiry',
				'uses',
				'filename',
				'size',
				'mime_type',
				'created_at',
				'expires_at',
				'sha256'
			].sort()
		);
		expect(await statusOf(body.key)).toMatchObject({ kind: 'file', contents: null });
	});

	test('the retrieval page shows the kind and the list (the check action)', async () => {
		const { key } = await created(
			await upload(
				server.url,
				{ data: 'zip', filename: 'two.zip' },
				{ kind: 'archive', contents: '[{"name":"one.txt","size":3},{"name":"two.txt","size":4}]' },
				{ from: client() }
			)
		);
		const page = await request(`${server.url}/r?/check`, {
			method: 'POST',
			from: client(),
			// What a browser without JavaScript sends: it gets the page, not the action's JSON.
			headers: {
				accept: 'text/html',
				'content-type': 'application/x-www-form-urlencoded',
				origin: server.url
			},
			body: new URLSearchParams({ passphrase: key }).toString()
		});
		expect(page.status).toBe(200);
		const html = page.body.toString('utf8').replace(/\s+/g, ' ');
		expect(html).toContain('2 files in one zip are waiting for you');
		// The list is the sender's word: the server cannot check it against the zip.
		expect(html).toContain('In the zip, as listed by the sender');
		expect(html).toContain('one.txt');
		expect(html).toContain('two.txt');
	});

	const tooMany = JSON.stringify(
		Array.from({ length: CONTENTS.maxEntries + 1 }, (_, i) => ({ name: `f${i}`, size: 1 }))
	);
	const tooLong = JSON.stringify([{ name: 'x'.repeat(CONTENTS.maxBytes), size: 1 }]);
	const tooLongName = JSON.stringify([{ name: 'x'.repeat(CONTENTS.maxNameBytes + 1), size: 1 }]);

	test.each([
		['an unknown kind', { kind: 'zip' }, 'INVALID_KIND'],
		['an empty kind', { kind: '' }, 'INVALID_KIND'],
		['contents that is not JSON', { contents: 'not json' }, 'INVALID_CONTENTS'],
		['contents that is not an array', { contents: '{"name":"a","size":1}' }, 'INVALID_CONTENTS'],
		['an empty name', { contents: '[{"name":"","size":1}]' }, 'INVALID_CONTENTS'],
		['a negative size', { contents: '[{"name":"a","size":-1}]' }, 'INVALID_CONTENTS'],
		['a fractional size', { contents: '[{"name":"a","size":1.5}]' }, 'INVALID_CONTENTS'],
		[
			'an entry with another key',
			{ contents: '[{"name":"a","size":1,"x":1}]' },
			'INVALID_CONTENTS'
		],
		[`${CONTENTS.maxEntries + 1} entries`, { contents: tooMany }, 'INVALID_CONTENTS'],
		['contents over 64 KiB', { contents: tooLong }, 'INVALID_CONTENTS'],
		['a name over 1024 characters', { contents: tooLongName }, 'INVALID_CONTENTS'],
		// A list goes with an archive only, whichever field comes first.
		[
			'a list with kind text',
			{ kind: 'text', contents: '[{"name":"a","size":1}]' },
			'INVALID_CONTENTS'
		],
		[
			'a list, then kind file',
			{ contents: '[{"name":"a","size":1}]', kind: 'file' },
			'INVALID_CONTENTS'
		],
		// Other fields keep the seed's 1 KiB.
		['another field over 1 KiB', { note: 'x'.repeat(1025) }, 'FIELD_TOO_LONG']
	] as const)('%s is refused with %s', async (_, fields, code) => {
		const reply = await upload(server.url, { data: 'x', filename: 'x.txt' }, fields, {
			from: client()
		});
		expect(reply.status, reply.body.toString()).toBe(400);
		expect(json(reply)).toMatchObject({ error_code: code });
	});
});
