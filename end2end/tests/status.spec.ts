// Agents' status: an away agent gets no new visitors but keeps serving the
// ones they have; admins see each agent's status and load.
import { Page } from "@playwright/test";
import { test, expect, openWidget, signIn, say, newPage, messages, hydrated } from "./fixtures";

test("an away agent keeps their visitor, new visitors go to the online one", async ({ browser, kefu }) => {
  kefu.addAgent("Ann", { admin: true });
  kefu.addAgent("Bob", { capacity: 1 });
  const ann = await newPage(browser);
  await signIn(ann.page, kefu, "Ann");

  const first = await newPage(browser);
  await openWidget(first.page, kefu);
  await say(first.page, "first visitor");
  await expect(ann.page.getByTestId("conversation-tab")).toHaveCount(1);

  await ann.page.getByTestId("agent-status").selectOption("away");
  const bob = await newPage(browser);
  await signIn(bob.page, kefu, "Bob");
  const second = await newPage(browser);
  await openWidget(second.page, kefu);
  await say(second.page, "second visitor");
  await expect(bob.page.getByTestId("conversation-tab")).toHaveCount(1);
  await expect(messages(bob.page, "visitor")).toHaveText(["second visitor"]);
  await expect(ann.page.getByTestId("conversation-tab")).toHaveCount(1);

  // Ann still serves her first visitor.
  await say(first.page, "are you there?");
  await expect(messages(ann.page, "visitor")).toHaveText(["first visitor", "are you there?"]);
  await say(ann.page, "yes, still with you");
  await expect(messages(first.page, "agent")).toHaveText(["yes, still with you"]);

  // The choice survives a reload; admins see it with the load.
  await ann.page.reload();
  await hydrated(ann.page);
  await expect(ann.page.getByTestId("agent-status")).toHaveValue("away");
  await ann.page.getByTestId("agents-toggle").click();
  const annRow = ann.page.getByTestId("agent-row").filter({ hasText: "Ann" });
  await expect(annRow.getByTestId("agent-presence")).toHaveAttribute("data-status", "away");
  await expect(annRow.getByTestId("agent-load")).toHaveText("1 of 5 conversations");
  const bobRow = ann.page.getByTestId("agent-row").filter({ hasText: "Bob" });
  await expect(bobRow.getByTestId("agent-presence")).toHaveAttribute("data-status", "online");

  // Back online, Ann gets the next visitor (Bob is full).
  await ann.page.getByTestId("agent-status").selectOption("online");
  const third = await newPage(browser);
  await openWidget(third.page, kefu);
  await say(third.page, "third visitor");
  await expect(ann.page.getByTestId("conversation-tab")).toHaveCount(2);
});

test.describe("with --away-after-idle", () => {
  test.use({ serverEnv: { KEFU_AWAY_AFTER_IDLE_SECS: "1" } });

  test("a hidden console goes away by itself, and online again when shown", async ({ browser, kefu }) => {
    kefu.addAgent("Ann");
    const ann = await newPage(browser);
    await signIn(ann.page, kefu, "Ann");
    const status = ann.page.getByTestId("agent-status");
    await expect(status).toHaveValue("online");

    // Hidden past the idle time: away, and stored (a new visitor is not hers).
    await setHidden(ann.page, true);
    await expect(status).toHaveValue("away", { timeout: 5_000 });
    const visitor = await newPage(browser);
    await openWidget(visitor.page, kefu);
    await say(visitor.page, "anyone there?");
    await ann.page.waitForTimeout(1_000);
    await expect(ann.page.getByTestId("conversation-tab")).toHaveCount(0);

    // Shown again: online, and the waiting visitor comes to her.
    await setHidden(ann.page, false);
    await expect(status).toHaveValue("online");
    await expect(messages(ann.page, "visitor")).toHaveText(["anyone there?"]);

    // Shown briefly hidden (under the idle time), nothing changes; an
    // agent who chose away herself is not brought back by the console.
    await setHidden(ann.page, true);
    await setHidden(ann.page, false);
    await status.selectOption("away");
    await setHidden(ann.page, true);
    await ann.page.waitForTimeout(1_500);
    await setHidden(ann.page, false);
    await expect(status).toHaveValue("away");
    await ann.page.reload();
    await hydrated(ann.page);
    await expect(status).toHaveValue("away");
  });
});

/** Makes the page report itself hidden (or visible again, with the event). */
async function setHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate((h) => {
    Object.defineProperty(document, "hidden", { configurable: true, get: () => h });
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => (h ? "hidden" : "visible") });
    document.dispatchEvent(new Event("visibilitychange", { bubbles: true }));
  }, hidden);
}
