/**
 * A download that takes longer than READER_TTL_SECONDS (3 s here; an hour by default) over
 * the every-minute expiry sweep. The sweep shreds stored files that no record and no reader
 * needs; the download is the last use of its drop, so only its reader mark keeps the file.
 * Without the refresh of that mark, the sweep overwrote the file under the stalled download,
 * which broke off. Waits for the top of a minute (up to about 65 s), hence here and not in
 * tests/integration/ (which has the quicker ways of losing the mark).
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { expect, test } from 'vitest';
import { json, upload } from '../helpers/http';
import { sleep, waitFor } from '../helpers/processes.js';
import { serverForTests } from '../helpers/running';
import { filesIn, randomData } from './support';

const TTL_S = 3;
/** More than loopback's socket buffers hold, so the stalled server still reads from disk. */
const BIG = 32 * 1024 * 1024;
/** A stored file without a record: the sweep shreds it, which says (in its log line) it ran. */
const DEBRIS = 'c'.repeat(32) + '.rzf';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Ends the download should the test fail while it stalls, so the server stops at once. */
let hangUp: (() => void) | undefined;

const { server } = serverForTests(
	{
		READER_TTL_SECONDS: String(TTL_S),
		// The download stalls until the next sweep, up to a minute: not an idle client to cut off.
		CLIENT_IDLE_TIMEOUT: '180',
		MAX_FILE_SIZE: String(BIG)
	},
	{ beforeStop: () => hangUp?.() }
);

test(
	'a download stalled past READER_TTL_SECONDS over an expiry sweep keeps its file and arrives intact',
	{ timeout: 150_000 },
	async () => {
		const uploads = path.join(server.dir, 'uploads');
		const data = randomData(BIG);
		const created = await upload(server.url, { data }, { uses: '1' });
		expect(created.status).toBe(201);
		const { key, sha256: expected } = json<{ key: string; sha256: string }>(created);
		const [stored] = filesIn(uploads);
		expect(stored).toMatch(/^[0-9a-f]{32}\.rzf$/);

		// The last use: from now on only the reader mark keeps the file.
		const body: Buffer[] = [];
		let res!: http.IncomingMessage;
		const finished = new Promise<Error | undefined>((resolve) => {
			const req = http.get(`${server.url}/download/${key}`, { agent: false }, (response) => {
				res = response;
				response.on('data', (part: Buffer) => body.push(part));
				response.once('data', () => response.pause());
				response.on('end', () => resolve(response.complete ? undefined : new Error('incomplete')));
				response.on('aborted', () => resolve(new Error('aborted')));
				response.on('error', (error) => resolve(error));
			});
			req.on('error', (error) => resolve(error));
			hangUp = () => req.destroy();
		});
		await waitFor(() => body.length > 0, 5000, 'the first bytes');
		expect(res.statusCode).toBe(200);

		// Past the reader TTL, then the next sweep: it shreds the debris, and must keep our file.
		await sleep(TTL_S * 1000 + 1000);
		const sweptFrom = server.lines.length;
		writeFileSync(path.join(uploads, DEBRIS), 'a stored file whose record is gone');
		const sweep = await server.waitForLine(
			(line) => line.event === 'sweep_expired' && server.lines.indexOf(line) >= sweptFrom,
			75_000
		);
		// Soft, so that without the refresh the test goes on to show the broken download.
		expect.soft(sweep, 'only the debris was shredded').toMatchObject({ shredded: 1 });
		expect.soft(filesIn(uploads), 'the stalled download still has its file').toEqual([stored]);

		res.resume();
		expect(await finished).toBeUndefined();
		const received = Buffer.concat(body);
		expect(received.length).toBe(BIG);
		expect(sha256(received)).toBe(expected);
		await waitFor(() => filesIn(uploads).length === 0, 5000, 'the burned file shredded');
		expect(server.lines.filter((line) => /_refresh_(lost|failed)$/.test(line.event ?? ''))).toEqual(
			[]
		);
	}
);
