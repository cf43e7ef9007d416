/**
 * A vitest reporter that (1) prints one plain closing line, "vitest: N passed, N failed,
 * N skipped", that CI can read whatever runner it knows, and (2) under CI=true turns any
 * skipped test into a failure: tests that need root, tshark or strongSwan may skip on a
 * laptop, loudly, but never in CI (DEVELOPERS.md).
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    const skipped: string[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else if (state === 'skipped') skipped.push(`${module.moduleId}: ${test.fullName}`);
      }
      // A file that failed to load has no tests to count but is still a failure.
      if (module.state() === 'failed' && [...module.children.allTests()].length === 0) failed++;
    }
    if (process.env.CI === 'true' && skipped.length > 0) {
      process.stderr.write(`\nCI=true: ${skipped.length} skipped test(s) count as failures:\n`);
      for (const name of skipped) process.stderr.write(`  - ${name}\n`);
      failed += skipped.length;
      process.exitCode = 1;
    }
    process.stdout.write(`\nvitest: ${passed} passed, ${failed} failed, ${skipped.length} skipped\n`);
  }
}
