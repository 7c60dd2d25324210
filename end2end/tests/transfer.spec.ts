// Transfers and private notes (issue 13, items 3 and 5): an agent hands a
// conversation to a colleague (with a note) or back to the queue; the
// receiver gets the whole history and the notes; the visitor is told who
// serves them now and never sees a note — live, in the reloaded history,
// or replayed after a dropped connection.
import { test, expect, openWidget, signIn, say, newPage, messages, hydrated, Scope } from "./fixtures";

/** The texts of the private notes in a message list. */
function notes(page: Scope) {
  return page.getByTestId("message-list").locator('[data-testid="message"][data-author="note"] .text');
}

/** Writes a private note in the conversation in front. */
async function writeNote(page: Scope, text: string): Promise<void> {
  await page.getByTestId("composer-mode").selectOption("note");
  await say(page, text);
  await page.getByTestId("composer-mode").selectOption("reply");
}

test("transfer between two agents: history, note, notices, loads", async ({ browser, kefu }) => {
  kefu.addAgent("Ann", { admin: true });
  kefu.addAgent("Bo");
  kefu.addAgent("Cy");
  const ann = await newPage(browser);
  await signIn(ann.page, kefu, "Ann");
  const visitor = await newPage(browser);
  await openWidget(visitor.page, kefu);
  await say(visitor.page, "my parcel is lost");
  await expect(messages(ann.page, "visitor")).toHaveText(["my parcel is lost"]);

  await writeNote(ann.page, "customer is a VIP");
  await expect(notes(ann.page)).toHaveText(["customer is a VIP"]);
  await expect(ann.page.locator('[data-author="note"]')).toHaveAttribute("data-state", "sent");
  await say(ann.page, "let me find a colleague");
  await expect(messages(visitor.page, "agent")).toHaveText(["let me find a colleague"]);

  const bo = await newPage(browser);
  await signIn(bo.page, kefu, "Bo");
  await expect(bo.page.getByTestId("conversation-tab")).toHaveCount(0);

  // Cy is not signed in: refused, and the conversation stays with Ann.
  await ann.page.getByTestId("transfer-target").selectOption({ label: "Cy" });
  await ann.page.getByTestId("transfer").click();
  await expect(ann.page.getByRole("alert")).toHaveText("That agent is offline.");
  await expect(ann.page.getByTestId("conversation-tab")).toHaveCount(1);

  await ann.page.getByTestId("transfer-target").selectOption({ label: "Bo" });
  await ann.page.getByTestId("transfer-note").fill("parcel 42: please call the courier");
  await ann.page.getByTestId("transfer").click();
  await expect(ann.page.getByTestId("conversation-tab")).toHaveCount(0);

  // Bo has the whole history, both notes and the notice.
  await expect(bo.page.getByTestId("conversation-tab")).toHaveCount(1);
  await expect(messages(bo.page, "visitor")).toHaveText(["my parcel is lost"]);
  await expect(messages(bo.page, "agent")).toHaveText(["let me find a colleague"]);
  await expect(notes(bo.page)).toHaveText(["customer is a VIP", "parcel 42: please call the courier"]);
  await expect(messages(bo.page, "system")).toContainText(["Transferred to Bo"]);

  // The visitor is told, and sees no note.
  await expect(messages(visitor.page, "system")).toContainText(["You are now chatting with Bo"]);
  await say(bo.page, "Hi, Bo here");
  await expect(messages(visitor.page, "agent")).toHaveText(["let me find a colleague", "Hi, Bo here"]);
  await expect(notes(visitor.page)).toHaveCount(0);
  await expect(visitor.page.locator("body")).not.toContainText("VIP");
  await expect(visitor.page.locator("body")).not.toContainText("courier");

  // Both loads changed (what admins see).
  await ann.page.getByTestId("agents-toggle").click();
  const row = (name: string) => ann.page.getByTestId("agent-row").filter({ hasText: name });
  await expect(row("Ann").getByTestId("agent-load")).toHaveText("0 of 5 conversations");
  await expect(row("Bo").getByTestId("agent-load")).toHaveText("1 of 5 conversations");
});

test("transfer to the queue: another agent takes it, never straight back", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  kefu.addAgent("Bo");
  const ann = await newPage(browser);
  await signIn(ann.page, kefu, "Ann");
  const visitor = await newPage(browser);
  await openWidget(visitor.page, kefu);
  await say(visitor.page, "hello");
  await expect(messages(ann.page, "visitor")).toHaveText(["hello"]);
  const bo = await newPage(browser);
  await signIn(bo.page, kefu, "Bo");

  await ann.page.getByTestId("transfer-target").selectOption("queue");
  await ann.page.getByTestId("transfer").click();
  await expect(ann.page.getByTestId("conversation-tab")).toHaveCount(0);
  await expect(bo.page.getByTestId("conversation-tab")).toHaveCount(1);
  await expect(messages(bo.page, "visitor")).toHaveText(["hello"]);
  await expect(messages(bo.page, "system")).toContainText([
    "Ann handed the conversation back to the queue",
    "Assigned to Bo",
  ]);
  await expect(messages(visitor.page, "system")).toContainText([
    "Ann is no longer available; another agent will be with you shortly",
    "Bo will serve you",
  ]);
  await ann.page.waitForTimeout(1_000);
  await expect(ann.page.getByTestId("conversation-tab")).toHaveCount(0);
});

test("a note is visible to a second agent after transfer and absent from the widget, its history and its replay", async ({
  browser,
  kefu,
}) => {
  kefu.addAgent("Ann");
  kefu.addAgent("Bo");
  const ann = await newPage(browser);
  await signIn(ann.page, kefu, "Ann");
  const visitor = await newPage(browser);
  await openWidget(visitor.page, kefu);
  await say(visitor.page, "question one");
  await expect(messages(ann.page, "visitor")).toHaveText(["question one"]);
  await writeNote(ann.page, "secret note from Ann");
  await expect(notes(ann.page)).toHaveText(["secret note from Ann"]);
  const bo = await newPage(browser);
  await signIn(bo.page, kefu, "Bo");
  await ann.page.getByTestId("transfer-target").selectOption({ label: "Bo" });
  await ann.page.getByTestId("transfer").click();
  await expect(notes(bo.page)).toHaveText(["secret note from Ann"]);
  await expect(bo.page.locator('[data-author="note"] .author')).toHaveText(["Ann"]);
  await expect(bo.page.locator('[data-author="note"] .note-mark')).toHaveText(["Private note"]);

  // Live: nothing.
  await expect(messages(visitor.page, "system")).toContainText(["You are now chatting with Bo"]);
  await expect(notes(visitor.page)).toHaveCount(0);
  await expect(visitor.page.locator("body")).not.toContainText("secret note");

  // Replayed after a dropped connection: Bo's reply comes, his note does not.
  await visitor.context.setOffline(true);
  await expect(visitor.page.getByTestId("reconnecting")).toBeVisible();
  await writeNote(bo.page, "secret note from Bo");
  await say(bo.page, "are you still there?");
  await expect(notes(bo.page)).toHaveText(["secret note from Ann", "secret note from Bo"]);
  await visitor.context.setOffline(false);
  await expect(visitor.page.getByTestId("reconnecting")).toHaveCount(0);
  await expect(messages(visitor.page, "agent")).toHaveText(["are you still there?"]);
  await expect(notes(visitor.page)).toHaveCount(0);
  await expect(visitor.page.locator("body")).not.toContainText("secret note");

  // The reloaded history: the messages, no note.
  await visitor.page.reload();
  await hydrated(visitor.page);
  await visitor.page.getByTestId("widget-launcher").click();
  await expect(messages(visitor.page, "visitor")).toHaveText(["question one"]);
  await expect(messages(visitor.page, "agent")).toHaveText(["are you still there?"]);
  await expect(notes(visitor.page)).toHaveCount(0);
  await expect(visitor.page.locator("body")).not.toContainText("secret note");

  // Bo's reloaded console still has both notes, in place.
  await bo.page.reload();
  await hydrated(bo.page);
  await expect(notes(bo.page)).toHaveText(["secret note from Ann", "secret note from Bo"]);
});

test("an admin reassigns a colleague's conversation from the agents panel", async ({ browser, kefu }) => {
  kefu.addAgent("Boss", { admin: true, capacity: 1 });
  kefu.addAgent("Ann");
  kefu.addAgent("Bo");
  const boss = await newPage(browser);
  await signIn(boss.page, kefu, "Boss");
  const first = await newPage(browser);
  await openWidget(first.page, kefu);
  await say(first.page, "for the boss");
  await expect(boss.page.getByTestId("conversation-tab")).toHaveCount(1);
  // Boss is full: the next visitor goes to Ann.
  const ann = await newPage(browser);
  await signIn(ann.page, kefu, "Ann");
  const visitor = await newPage(browser);
  await openWidget(visitor.page, kefu);
  await say(visitor.page, "hello");
  await expect(messages(ann.page, "visitor")).toHaveText(["hello"]);
  const bo = await newPage(browser);
  await signIn(bo.page, kefu, "Bo");

  await boss.page.getByTestId("agents-toggle").click();
  // The row of the conversation a given agent serves.
  const servedBy = (name: string) =>
    boss.page.getByTestId("open-conversation").filter({
      has: boss.page.getByTestId("open-conversation-agent").getByText(name, { exact: true }),
    });
  const row = servedBy("Ann");
  await expect(row).toHaveCount(1);
  await row.getByTestId("transfer-target").selectOption({ label: "Bo" });
  await row.getByTestId("transfer").click();

  await expect(bo.page.getByTestId("conversation-tab")).toHaveCount(1);
  await expect(messages(bo.page, "visitor")).toHaveText(["hello"]);
  await expect(ann.page.getByTestId("conversation-tab")).toHaveCount(0);
  await expect(messages(visitor.page, "system")).toContainText(["You are now chatting with Bo"]);
  await boss.page.getByTestId("open-conversations-refresh").click();
  await expect(servedBy("Bo")).toHaveCount(1);
  await expect(servedBy("Ann")).toHaveCount(0);
  // Boss keeps his own conversation.
  await expect(boss.page.getByTestId("conversation-tab")).toHaveCount(1);
});
