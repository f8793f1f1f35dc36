/**
 * The S3 backend's arithmetic and rule, without an engine (the contract test runs it against
 * a real one): the part size lets 10,000 parts hold the largest file, and the lifecycle
 * backstop covers the prefix only.
 */
import { describe, expect, test } from 'vitest';
import { encryptedSize } from '../../src/lib/server/crypto/file-format';
import {
	lifecycleRule,
	MAX_PARTS,
	MIN_PART_SIZE,
	partSizeFor
} from '../../src/lib/server/files/s3';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe('partSizeFor', () => {
	test.each([1, 10 * MiB, GiB + MiB, 48 * GiB, 100 * GiB, 5 * 1024 * GiB])(
		'MAX_FILE_SIZE %i: 10,000 parts hold the largest encrypted file, with the smallest part that does',
		(maxFileSize) => {
			const partSize = partSizeFor(maxFileSize);
			expect(partSize).toBeGreaterThanOrEqual(MIN_PART_SIZE);
			expect(partSize * MAX_PARTS).toBeGreaterThanOrEqual(encryptedSize(maxFileSize));
			if (partSize > MIN_PART_SIZE) {
				expect((partSize - 1) * MAX_PARTS).toBeLessThan(encryptedSize(maxFileSize));
			}
		}
	);

	test('the smallest S3 allows (5 MiB) up to about 48.8 GiB, larger beyond', () => {
		expect(partSizeFor(10 * MiB)).toBe(5 * MiB);
		expect(partSizeFor(48 * GiB)).toBe(5 * MiB);
		expect(partSizeFor(100 * GiB)).toBeGreaterThan(10 * MiB);
	});
});

test('the lifecycle backstop expires objects and unfinished uploads under the prefix after a day', () => {
	expect(lifecycleRule('raven-zero/')).toEqual({
		ID: 'raven-zero-backstop',
		Status: 'Enabled',
		Filter: { Prefix: 'raven-zero/' },
		Expiration: { Days: 1 },
		AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }
	});
});
