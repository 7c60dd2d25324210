import { defineConfig, devices } from "@playwright/test";

// No browser is downloaded (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 at npm ci): the
// system's Chromium is used. Each test starts its own kefu server (release
// binary, fresh SQLite file): see tests/fixtures.ts.
const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 1,
  // The JSON report feeds the failure digest `make e2e` prints last.
  reporter: [["list"], ["json", { outputFile: "test-results/report.json" }]],
  use: {
    trace: "retain-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: {
          executablePath,
          args: [
            "--no-sandbox",
            "--headless",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
          ],
        },
      },
    },
  ],
});
