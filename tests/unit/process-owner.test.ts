/**
 * A crashed upload's reservation names its process; the start-up clean-up frees it once that
 * process is certainly dead, a zombie included (issue #12: a SIGKILLed instance whose parent
 * did not reap it kept all its dead uploads' parts, since kill(pid, 0) succeeds on a zombie).
 */
import { spawn } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { describe, expect, test } from 'vitest';
import { isDeadOwner, PROCESS_OWNER } from '../../src/lib/server/process-owner';
import { sleep } from '../helpers/processes.js';

const namespace = readlinkSync('/proc/self/ns/pid').replace(/[^\w:[\]]/g, '');
const ownerOf = (pid: number) => [hostname(), namespace, String(pid), 'an-earlier-start'].join('|');

describe('isDeadOwner', () => {
	test('a running process is alive; this process under this start is alive', async () => {
		const child = spawn('sleep', ['5']);
		try {
			expect(isDeadOwner(ownerOf(child.pid!))).toBe(false);
			expect(isDeadOwner(PROCESS_OWNER)).toBe(false);
		} finally {
			child.kill('SIGKILL');
		}
	});

	test('a zombie (ended, never reaped by its parent) is dead', async () => {
		// sh starts `true` in the background, prints its PID, then becomes `sleep`, which never
		// reaps it: once `true` ends it stays a zombie until sleep ends.
		const parent = spawn('sh', ['-c', 'true & echo $!; exec sleep 5']);
		try {
			const pid = await new Promise<number>((resolve) =>
				parent.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())))
			);
			await sleep(200);
			expect(isDeadOwner(ownerOf(pid))).toBe(true);
		} finally {
			parent.kill('SIGKILL');
		}
	});
});
