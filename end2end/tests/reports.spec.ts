// Reports (issue 14, item 4): an admin opens the reports page over a
// seeded month of conversations, sees its charts and figures, and the CSV
// link downloads the same figures.
import { test, expect, signIn, newPage } from "./fixtures";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const SEED = path.resolve(__dirname, "..", "..", "scripts", "seed-reports.sh");

test("the reports page charts a seeded month and its CSV has the same figures", async ({ browser, kefu }) => {
  kefu.addAgent("Boss", { admin: true });
  execFileSync("bash", [SEED, kefu.db, "600", "30"]);
  const admin = await newPage(browser);
  await signIn(admin.page, kefu, "Boss");
  await admin.page.getByTestId("reports-toggle").click();
  const reports = admin.page.getByTestId("reports");
  await expect(reports).toBeVisible();
  // The last 30 days at first: the whole seeded month.
  await expect(reports.getByTestId("report-conversations")).toHaveText("600");
  await expect(reports.getByTestId("report-offline")).toHaveText("60");
  await expect(reports.getByTestId("chart")).toHaveCount(3);
  await expect(reports.locator('[data-chart="per-day"] g')).toHaveCount(30);
  await expect(reports.getByTestId("report-agent")).toHaveCount(3);

  const figure = async (id: string) => (await reports.getByTestId(id).getAttribute("data-ms")) ?? "";
  const median = await figure("report-first-response-median");
  const p90 = await figure("report-first-response-p90");
  const resolution = await figure("report-resolution-median");
  expect(Number(median)).toBeGreaterThan(0);
  expect(Number(p90)).toBeGreaterThanOrEqual(Number(median));

  const [download] = await Promise.all([
    admin.page.waitForEvent("download"),
    reports.getByTestId("reports-csv").click(),
  ]);
  const csv = fs.readFileSync(await download.path(), "utf8");
  const lines = new Set(csv.trim().split("\n"));
  expect(lines).toContain("conversations,,600");
  expect(lines).toContain("offline,,60");
  expect(lines).toContain(`first_response_median_ms,,${median}`);
  expect(lines).toContain(`first_response_p90_ms,,${p90}`);
  expect(lines).toContain(`resolution_median_ms,,${resolution}`);
  for (const row of await reports.getByTestId("report-agent").all()) {
    const name = await row.getAttribute("data-name");
    expect(lines).toContain(`agent_conversations,${name},${await row.getAttribute("data-conversations")}`);
    expect(lines).toContain(`agent_first_response_median_ms,${name},${await row.getAttribute("data-first-response")}`);
    expect(lines).toContain(`agent_rating_average,${name},${await row.getAttribute("data-rating")}`);
  }
  // The ratings chart and the CSV's distribution agree, bar by bar.
  const bars = reports.locator('[data-chart="ratings"] g');
  await expect(bars).toHaveCount(5);
  for (let score = 1; score <= 5; score++) {
    const value = await bars.nth(score - 1).getAttribute("data-value");
    expect(lines).toContain(`ratings,${score},${value}`);
  }
});
