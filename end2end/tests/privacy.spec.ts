// Retention and personal data (issue 14, item 6): an admin finds the
// visitor's id in the visitor panel, cannot delete a visitor who is still
// chatting, and deletes one whose conversation is closed after a
// confirmation: the conversation leaves the history, search finds nothing,
// and `kefu visitor export` knows no such visitor.
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { test, expect, openWidget, signIn, say, newPage, messages } from "./fixtures";

const BIN = process.env.KEFU_BIN ?? path.join(__dirname, "..", "..", "target", "release", "kefu");

test("an admin deletes a visitor after a confirmation, and only once they are gone", async ({ browser, kefu }) => {
  kefu.addAgent("Boss", { admin: true });
  const boss = await newPage(browser);
  await signIn(boss.page, kefu, "Boss");

  const visitor = await newPage(browser);
  await openWidget(visitor.page, kefu);
  await say(visitor.page, "Please send it to 12 Quiet Lane, Springfield");
  await boss.page.getByTestId("conversation-tab").click();
  await expect(messages(boss.page, "visitor")).toHaveCount(1);

  // The visitor panel shows the id the command line takes.
  const idRow = boss.page.getByTestId("visitor-info").locator('[data-field="visitor_id"] dd');
  await expect(idRow).toHaveText(/^\d+$/);
  const id = (await idRow.textContent())!.trim();
  const exported = JSON.parse(execFileSync(BIN, ["--db", kefu.db, "visitor", "export", id]).toString());
  expect(JSON.stringify(exported)).toContain("12 Quiet Lane");

  // While they chat, deleting them is refused with a reason.
  await boss.page.getByTestId("history-toggle").click();
  const search = boss.page.getByTestId("conversation-search");
  await search.fill("Quiet Lane");
  await search.press("Enter");
  await boss.page.getByTestId("search-result").first().click();
  const view = boss.page.getByTestId("read-only-conversation");
  await expect(view.getByTestId("read-only-visitor-id")).toContainText(id);
  await view.getByTestId("delete-visitor").click();
  await expect(view.getByTestId("delete-visitor-confirm-text")).toBeVisible();
  await view.getByTestId("delete-visitor-confirm").click();
  await expect(view.getByTestId("delete-visitor-error")).toContainText("open conversation");
  await view.getByTestId("read-only-back").click();

  // Closed, and the visitor gone: the admin deletes them.
  await boss.page.getByTestId("close-conversation").click();
  await expect(boss.page.getByTestId("conversation-tab")).toHaveCount(0);
  await visitor.context.close();
  await boss.page.getByTestId("history-toggle").click();
  await boss.page.getByTestId("history-toggle").click();
  const closed = boss.page.getByTestId("closed-list").getByTestId("closed-item");
  await expect(closed).toHaveCount(1);
  await closed.first().click();
  await expect(messages(view as any, "visitor")).toHaveText(["Please send it to 12 Quiet Lane, Springfield"]);
  // Cancel first: nothing happens.
  await view.getByTestId("delete-visitor").click();
  await view.getByTestId("delete-visitor-cancel").click();
  await expect(view.getByTestId("delete-visitor-confirm")).toHaveCount(0);
  await view.getByTestId("delete-visitor").click();
  await view.getByTestId("delete-visitor-confirm").click();
  await expect(boss.page.getByTestId("visitor-deleted")).toBeVisible();
  await expect(view).toHaveCount(0);
  await expect(closed).toHaveCount(0);

  // Gone everywhere: search, the closed list after a reload, the export.
  await search.fill("Quiet Lane");
  await search.press("Enter");
  await expect(boss.page.getByTestId("no-results")).toBeVisible();
  await boss.page.reload();
  await boss.page.getByTestId("history-toggle").click();
  await expect(boss.page.getByTestId("history-panel")).toBeVisible();
  await expect(closed).toHaveCount(0);
  expect(() => execFileSync(BIN, ["--db", kefu.db, "visitor", "export", id], { stdio: "pipe" })).toThrow(/no visitor/);
});
