/**
 * The drop API on object storage: the built server with STORAGE_BACKEND=s3 on a real S3
 * engine (a one-node Swift with s3api, tests/helpers/swift.js) and a real Redis. The same
 * promises as on a folder, observed in the bucket: a drop is one object under S3_PREFIX once
 * its upload completed; its last download, destroy and expiry delete it; an upload cut off or
 * refused midway leaves no object, no multipart upload and no record; debris of a crash is
 * cleaned at start-up and by the sweep; a changed object breaks its download.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import {
	CreateMultipartUploadCommand,
	GetObjectCommand,
	PutObjectCommand,
	UploadPartCommand
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encryptedSize } from '../../src/lib/server/crypto/file-format';
import { json, multipart, replyTo, request, upload, type Reply } from '../helpers/http';
import { sleep, waitFor } from '../helpers/processes.js';
import { serverForTests } from '../helpers/running';
import { startSwift, type TestSwift } from '../helpers/swift.js';

const MiB = 1024 * 1024;
const PREFIX = 'drops/';
/** Debris of a crashed earlier run, planted before the server starts. */
const STALE_UPLOAD_KEY = `${PREFIX}${'a'.repeat(32)}.rzf`;
const ORPHAN_KEY = `${PREFIX}${'b'.repeat(32)}.rzf`;
const FOREIGN_KEY = 'someone-else/photo.jpg';

let swift: TestSwift;
let bucket = '';
const env: Record<string, string> = {};

// Before serverForTests' own beforeAll (hooks run in order): the engine, the bucket, the
// debris, and the server's settings, which serverForTests reads when it starts the server.
beforeAll(async () => {
	swift = await startSwift();
	bucket = await swift.createBucket();
	const s3 = swift.client();
	try {
		const { UploadId } = await s3.send(
			new CreateMultipartUploadCommand({ Bucket: bucket, Key: STALE_UPLOAD_KEY })
		);
		await s3.send(
			new UploadPartCommand({
				Bucket: bucket,
				Key: STALE_UPLOAD_KEY,
				UploadId,
				PartNumber: 1,
				Body: randomBytes(1000)
			})
		);
		await s3.send(new PutObjectCommand({ Bucket: bucket, Key: ORPHAN_KEY, Body: 'lost record' }));
		await s3.send(new PutObjectCommand({ Bucket: bucket, Key: FOREIGN_KEY, Body: 'not ours' }));
	} finally {
		s3.destroy();
	}
	Object.assign(
		env,
		swift.env(bucket, {
			S3_PREFIX: PREFIX,
			MAX_FILE_SIZE: String(32 * MiB),
			UPLOAD_RATE_LIMIT: '1000/hour',
			// The sweep's minimum age for names that are not ours (a minute at least).
			ORPHAN_AGE_MINUTES: '1'
		})
	);
}, 180_000);

const { server } = serverForTests(env);

afterAll(async () => {
	await swift?.stop();
});

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
/** Our objects, but the planted orphan (which the every-minute sweep deletes at any moment). */
const ourObjects = async () =>
	(await swift.objects(bucket)).filter(
		(object) => object.key.startsWith(PREFIX) && object.key !== ORPHAN_KEY
	);

function created(reply: Reply): { key: string; download_url: string; sha256: string } {
	expect(reply.status, reply.body.toString()).toBe(201);
	return json(reply);
}

/** Wait until the bucket holds exactly `count` objects of ours. */
const objectsBecome = (count: number, what: string) =>
	waitFor(async () => (await ourObjects()).length === count, 10_000, what, 100);

describe('drops in a bucket', () => {
	test('start-up aborts an upload left by a crash; the foreign key stays', async () => {
		await waitFor(
			async () => (await swift.uploads(bucket)).length === 0,
			10_000,
			'the stale upload aborted'
		);
		expect(server.lines).toContainEqual(
			expect.objectContaining({ event: 'startup_temp_cleanup', shredded: 1 })
		);
		expect((await swift.objects(bucket)).map((object) => object.key)).toContain(FOREIGN_KEY);
		expect(json(await request(`${server.url}/health/`))).toMatchObject({
			services: { storage: 'online' }
		});
	});

	test('upload, status and download: one object, byte for byte; the last download deletes it', async () => {
		const data = randomBytes(12 * MiB + 321);
		const before = (await ourObjects()).length;
		const drop = created(await upload(server.url, { data, filename: 'report.pdf' }));
		const objects = await ourObjects();
		expect(objects).toHaveLength(before + 1);
		// The drop is one object of our form, holding the encrypted file (RZF1: a header and a
		// tag per 64 KiB chunk beside the bytes).
		const object = objects.find((listed) => listed.size === encryptedSize(data.length));
		expect(object?.key).toMatch(/^drops\/[0-9a-f]{32}\.rzf$/);

		expect(json(await request(`${server.url}/status/${drop.key}`))).toMatchObject({
			status: 'active',
			remaining_uses: 1
		});
		const download = await request(drop.download_url);
		expect(download.status).toBe(200);
		expect(download.error).toBeUndefined();
		expect(download.body.equals(data)).toBe(true);
		expect(download.headers['x-sha256']).toBe(sha256(data));

		await objectsBecome(before, 'the object deleted after the last download');
		expect(json(await request(`${server.url}/status/${drop.key}`))).toMatchObject({
			status: 'burned'
		});
		expect((await request(drop.download_url)).status).toBe(410);
	});

	test('uses=3 with 20 concurrent downloads gives exactly three 200s, then the object goes', async () => {
		const data = randomBytes(200_000);
		const before = (await ourObjects()).length;
		const drop = created(await upload(server.url, { data }, { uses: '3' }));
		const replies = await Promise.all(Array.from({ length: 20 }, () => request(drop.download_url)));
		const ok = replies.filter((reply) => reply.status === 200);
		expect(ok).toHaveLength(3);
		for (const reply of ok) expect(reply.body.equals(data)).toBe(true);
		expect(replies.filter((reply) => reply.status !== 200).map((reply) => reply.status)).toEqual(
			Array(17).fill(410)
		);
		await objectsBecome(before, 'the object deleted after the third download');
	});

	test('destroy deletes the object at once', async () => {
		const before = (await ourObjects()).length;
		const drop = created(await upload(server.url, { data: 'changed my mind' }, { uses: '5' }));
		expect(await ourObjects()).toHaveLength(before + 1);
		const destroyed = await request(`${server.url}/destroy`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ passphrase: drop.key })
		});
		expect(destroyed.status).toBe(200);
		expect(await ourObjects()).toHaveLength(before);
	});

	test('an upload cut off midway, or refused midway, leaves no object, no multipart upload and no drop', async () => {
		const before = (await ourObjects()).length;
		const drops = server.lines.filter((line) => line.event === 'drop_created').length;
		// Cut off after three parts' worth: the multipart upload exists by then.
		const { body, contentType } = multipart([
			{ name: 'file', filename: 'big.bin', data: randomBytes(20 * MiB) }
		]);
		const req = http.request(`${server.url}/upload/`, {
			method: 'POST',
			agent: false,
			headers: { 'content-type': contentType, 'content-length': String(body.length) }
		});
		req.on('error', () => undefined);
		const reply = replyTo(req);
		req.write(body.subarray(0, 16 * MiB));
		await waitFor(
			async () => (await swift.uploads(bucket)).length > 0,
			30_000,
			'the multipart upload started'
		);
		req.destroy();
		await reply;
		// Over MAX_FILE_SIZE (32 MiB) without a declared length: refused with 413 midway.
		const tooLarge = await uploadChunked(randomBytes(33 * MiB));
		expect(tooLarge.status).toBe(413);

		await waitFor(
			async () => (await swift.uploads(bucket)).length === 0,
			20_000,
			'every multipart upload aborted'
		);
		expect(await ourObjects()).toHaveLength(before);
		expect(server.lines.filter((line) => line.event === 'drop_created')).toHaveLength(drops);
	});

	test('a changed byte in the object breaks its download, and is logged', async () => {
		const data = randomBytes(300_000);
		const drop = created(await upload(server.url, { data }, { uses: '2' }));
		const s3 = swift.client();
		try {
			const objects = await ourObjects();
			expect(objects).toHaveLength(1);
			const key = objects[0]!.key;
			const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
			const bytes = Buffer.from((await object.Body?.transformToByteArray()) ?? []);
			bytes[200_000]! ^= 1;
			await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }));
		} finally {
			s3.destroy();
		}
		const download = await request(drop.download_url);
		expect(download.error).toBeDefined();
		expect(download.body.length).toBeLessThan(data.length);
		await waitFor(
			() => server.lines.some((line) => line.event === 'INTEGRITY_CHECK_FAILED'),
			5000,
			'the integrity failure logged'
		);
	});

	test('nothing in the bucket or in its keys holds the plaintext, the file name or the passphrase', async () => {
		const secret = `plain-${randomBytes(8).toString('hex')}`;
		const drop = created(
			await upload(
				server.url,
				{ data: secret.repeat(100), filename: 'secret-plans.txt' },
				{ uses: '2' }
			)
		);
		const s3 = swift.client();
		try {
			for (const { key } of await ourObjects()) {
				expect(key).not.toContain('secret');
				expect(key).not.toContain(drop.key);
				const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
				const text = Buffer.from((await object.Body?.transformToByteArray()) ?? []).toString(
					'latin1'
				);
				expect(text).not.toContain(secret);
				expect(text).not.toContain('secret-plans');
				expect(text).not.toContain(drop.key);
			}
		} finally {
			s3.destroy();
		}
	});

	test(
		'an expired drop says expired and its object is deleted within a minute, with the orphan',
		{ timeout: 200_000 },
		async () => {
			const before = (await ourObjects()).length;
			const drop = created(await upload(server.url, { data: 'short-lived' }, { expiry: '1' }));
			expect(await ourObjects()).toHaveLength(before + 1);
			const expiresAt = Date.parse(
				json<{ expires_at: string }>(await request(`${server.url}/status/${drop.key}`)).expires_at
			);
			await sleep(Math.max(0, expiresAt - Date.now()) + 500);
			expect(json(await request(`${server.url}/status/${drop.key}`))).toMatchObject({
				status: 'expired'
			});
			expect((await request(drop.download_url)).status).toBe(410);
			// The drops of the tests above that still have uses stay; the expired one goes.
			await waitFor(
				async () => (await ourObjects()).length === before,
				70_000,
				'the sweep deleting the expired object',
				500
			);
			console.log(
				`expired object deleted ${Math.round((Date.now() - expiresAt) / 1000)} s after expiry`
			);
			// The record-less orphan planted before the start went in a sweep too; the foreign
			// key stays.
			const keys = (await swift.objects(bucket)).map((object) => object.key);
			expect(keys).not.toContain(ORPHAN_KEY);
			expect(keys).toContain(FOREIGN_KEY);
		}
	);
});

/** POST /upload/ in 64 KiB pieces without a Content-Length. */
function uploadChunked(data: Buffer): Promise<Reply> {
	const { body, contentType } = multipart([{ name: 'file', filename: 'big.bin', data }]);
	const req = http.request(`${server.url}/upload/`, {
		method: 'POST',
		agent: false,
		headers: { 'content-type': contentType }
	});
	req.on('error', () => undefined);
	const reply = replyTo(req);
	void (async () => {
		for (let offset = 0; offset < body.length && !req.destroyed; offset += 64 * 1024) {
			if (!req.write(body.subarray(offset, offset + 64 * 1024))) {
				await new Promise((resolve) => req.once('drain', resolve));
			}
		}
		req.end();
	})();
	return reply;
}
