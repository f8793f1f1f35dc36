// The benchmark suite arrives with the performance issue (#5). Until then `npm run bench`
// says so and exits cleanly, so scripts that call it do not break.
console.log('no benchmarks yet');
