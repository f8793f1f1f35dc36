import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
	plugins: [sveltekit()],
	build: {
		rolldownOptions: {
			// Rolldown's timings block on every build lists Kit's own writeBundle/closeBundle
			// (prerendering, adapter-node's bundling), which we cannot speed up; the warnings
			// about our code stay on.
			checks: { bundlerTimings: false }
		}
	},
	test: {
		expect: { requireAssertions: true },
		projects: [
			{
				extends: true,
				test: {
					name: 'unit',
					include: ['tests/unit/**/*.test.ts'],
					environment: 'node'
				}
			},
			{
				extends: true,
				test: {
					name: 'integration',
					include: ['tests/integration/**/*.test.ts'],
					environment: 'node',
					// Each file starts its own built server and redis-server; run files one at a time
					// so they do not fight over the machine's two cores.
					fileParallelism: false,
					testTimeout: 30_000,
					hookTimeout: 60_000
				}
			},
			{
				extends: true,
				test: {
					// Faults, load and bad input against real processes: the last part of `npm test`
					// (alone: npm run test:resilience).
					name: 'resilience',
					include: ['tests/resilience/**/*.test.ts'],
					environment: 'node',
					// Each file kills, restarts and loads its own servers and redis-servers; two at
					// once would skew each other's timings and memory figures on two cores.
					fileParallelism: false,
					testTimeout: 120_000,
					hookTimeout: 60_000
				}
			}
		]
	}
});
