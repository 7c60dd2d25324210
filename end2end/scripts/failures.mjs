// Prints a short digest of the failed tests of the last run, from the JSON
// report (test-results/report.json): each failure's error and the end of
// its kefu server's log. `make e2e` prints it last when a test fails, so
// the cause is in the final lines of a CI log even when only they are kept.
import * as fs from "node:fs";

const REPORT = "test-results/report.json";
const ERROR_LINES = 14;
const LOG_LINES = 25;

const strip = (s) => s.replace(/\u001b\[[0-9;]*m/g, "");

function* tests(suite, titles = []) {
  for (const spec of suite.specs ?? []) {
    for (const test of spec.tests ?? []) yield { titles: [...titles, spec.title], file: spec.file, line: spec.line, test };
  }
  for (const child of suite.suites ?? []) yield* tests(child, suite.title ? [...titles, suite.title] : titles);
}

if (!fs.existsSync(REPORT)) {
  console.log(`e2e: no ${REPORT}; nothing to summarize`);
  process.exit(0);
}
const report = JSON.parse(fs.readFileSync(REPORT, "utf8"));
console.log("\n===== e2e failures (digest) =====");
for (const suite of report.suites ?? []) {
  for (const { titles, file, line, test } of tests(suite)) {
    for (const result of test.results ?? []) {
      if (result.status === test.expectedStatus) continue;
      console.log(`\n--- ${file}:${line} › ${titles.filter(Boolean).join(" › ")} (${result.status}, ${result.duration} ms)`);
      for (const error of result.errors ?? []) {
        const text = strip(error.message ?? error.value ?? "").split("\n").slice(0, ERROR_LINES);
        console.log(text.map((l) => "  " + l).join("\n"));
        if (error.location) console.log(`  at ${error.location.file}:${error.location.line}:${error.location.column}`);
      }
      for (const a of result.attachments ?? []) {
        if (a.name !== "server.log" || !a.path || !fs.existsSync(a.path)) continue;
        const lines = strip(fs.readFileSync(a.path, "utf8")).trimEnd().split("\n");
        console.log(`  server.log, last ${Math.min(LOG_LINES, lines.length)} of ${lines.length} lines:`);
        console.log(lines.slice(-LOG_LINES).map((l) => "    " + l).join("\n"));
      }
    }
  }
}
console.log("===== end of digest =====");
