// Loaded into the CLI under test (NODE_OPTIONS=--import) by faults.test.ts, a stand-in for a bug
// anywhere in buildfence's own process: on SIGUSR2 it throws an exception nobody catches, or
// with BUILDFENCE_TEST_FAULT=rejection rejects a promise nobody handles.
process.on('SIGUSR2', () => {
  if (process.env.BUILDFENCE_TEST_FAULT === 'rejection') void Promise.reject(new Error('injected rejection'));
  else
    setImmediate(() => {
      throw new Error('injected exception');
    });
});
