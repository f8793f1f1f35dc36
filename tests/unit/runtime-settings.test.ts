import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE_FLAGS, SERVER_ENV } from '../../server/shared.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

// The tests and the benchmark start the server with NODE_FLAGS and SERVER_ENV; what users run
// (`npm start`, the Docker image) must be the same process, or the measured figures lie.
describe('the server runs with the same settings everywhere', () => {
	it('npm start passes every flag and variable', () => {
		const start = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts
			.start!;
		expect(start).toMatch(/node .*server\/index\.js$/);
		for (const flag of NODE_FLAGS) expect(start).toContain(` ${flag} `);
		for (const [name, value] of Object.entries(SERVER_ENV))
			expect(start).toContain(`${name}=${value} `);
	});

	it('the Dockerfile passes every flag and variable', () => {
		const dockerfile = read('Dockerfile');
		const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1];
		expect(cmd).toBeDefined();
		expect(JSON.parse(cmd!)).toEqual(['node', ...NODE_FLAGS, 'server/index.js']);
		for (const [name, value] of Object.entries(SERVER_ENV))
			expect(dockerfile).toMatch(new RegExp(`^ENV .*\\b${name}=${value}\\b`, 'm'));
	});
});
