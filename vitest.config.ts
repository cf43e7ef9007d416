import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    // Interop and tshark tests start processes; give them room but keep unit tests snappy.
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
