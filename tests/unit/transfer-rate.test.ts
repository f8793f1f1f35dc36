/**
 * The download's speed and time left (src/lib/transfer-rate.ts): none until there is a second
 * of history, then the speed over the last few seconds, so a connection that slows down is
 * followed rather than averaged away.
 */
import { describe, expect, test } from 'vitest';
import { secondsLeft, TransferRate } from '../../src/lib/transfer-rate';

describe('TransferRate', () => {
	test('gives no speed and no time left until a second has passed', () => {
		const rate = new TransferRate();
		rate.add(0, 0);
		rate.add(50_000, 500);
		expect(rate.bytesPerSecond).toBe(0);
		expect(secondsLeft(50_000, 1_000_000, rate.bytesPerSecond)).toBeUndefined();
	});

	test.each([
		// [bytes at 1 s intervals, total, speed, seconds left]
		[[0, 100_000, 200_000], 1_000_000, 100_000, 8],
		[[0, 500_000, 1_000_000], 1_000_000, 500_000, undefined],
		[[0, 500_000, 999_000], 1_000_000, 499_500, 1],
		[[0, 1000, 2500], 10_000, 1250, 6]
	] as const)('from %j of %i bytes: %i B/s, %s s left', (samples, total, speed, left) => {
		const rate = new TransferRate();
		samples.forEach((bytes, second) => rate.add(bytes, second * 1000));
		expect(rate.bytesPerSecond).toBe(speed);
		expect(secondsLeft(samples.at(-1)!, total, rate.bytesPerSecond)).toBe(left);
	});

	test('follows the last five seconds, not the whole transfer', () => {
		const rate = new TransferRate();
		// Fast for 10 s (1 MB/s), then slow for 6 s (10 kB/s).
		for (let second = 0; second <= 10; second++) rate.add(second * 1_000_000, second * 1000);
		for (let second = 1; second <= 6; second++)
			rate.add(10_000_000 + second * 10_000, (10 + second) * 1000);
		expect(rate.bytesPerSecond).toBeCloseTo(10_000, -2);
		expect(secondsLeft(10_060_000, 10_060_000 + 100_000, rate.bytesPerSecond)).toBe(10);
	});
});
