// Seen (issue 13, item 2): each side sees which of its messages the other
// has seen, counted only while the other has the conversation in view;
// read positions are stored, so unread counts survive reloads.
import { test, expect, openWidget, signIn, say, newPage, rows, hydrated } from "./fixtures";
import type { Page } from "@playwright/test";

/** Makes the page report itself hidden (or visible again, with the event). */
async function setHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate((h) => {
    Object.defineProperty(document, "hidden", { configurable: true, get: () => h });
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => (h ? "hidden" : "visible") });
    document.dispatchEvent(new Event("visibilitychange", { bubbles: true }));
  }, hidden);
}

test("Seen on both sides, only once the other side has the conversation in view", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  const agent = await newPage(browser);
  await signIn(agent.page, kefu, "Ann");
  const visitor = await newPage(browser);
  await openWidget(visitor.page, kefu);

  // The console is visible with the conversation in front: seen at once.
  await say(visitor.page, "hi there");
  const question = rows(visitor.page, "visitor").last();
  await expect(question).toHaveAttribute("data-seen", "true");
  await expect(question).toContainText("Seen");

  // The console's browser tab is hidden: the next message is not seen…
  await setHidden(agent.page, true);
  await say(visitor.page, "anyone?");
  await expect(rows(agent.page, "visitor")).toHaveCount(2);
  await expect(agent.page.getByTestId("conversation-tab")).toHaveAttribute("data-unread", "1");
  await agent.page.waitForTimeout(500);
  await expect(rows(visitor.page, "visitor").last()).not.toHaveAttribute("data-seen", "true");
  await expect(rows(visitor.page, "visitor").last()).toContainText("Sent");
  // …until it shows again.
  await setHidden(agent.page, false);
  await expect(rows(visitor.page, "visitor").last()).toHaveAttribute("data-seen", "true");
  await expect(agent.page.getByTestId("conversation-tab")).toHaveAttribute("data-unread", "0");

  // The widget is open and visible: Ann's reply is seen at once.
  await say(agent.page, "hello, how can I help?");
  await expect(rows(agent.page, "agent").last()).toHaveAttribute("data-seen", "true");
  await expect(rows(agent.page, "agent").last()).toContainText("Seen");
  // Minimised, it is not: the reply waits, counted on the launcher.
  await visitor.page.getByTestId("widget-launcher").click();
  await say(agent.page, "are you still there?");
  await expect(visitor.page.getByTestId("widget-unread")).toHaveText("1");
  await agent.page.waitForTimeout(500);
  await expect(rows(agent.page, "agent").last()).not.toHaveAttribute("data-seen", "true");
  await visitor.page.getByTestId("widget-launcher").click();
  await expect(rows(agent.page, "agent").last()).toHaveAttribute("data-seen", "true");
  await expect(visitor.page.getByTestId("widget-unread")).toHaveCount(0);

  // "Seen" survives a reload on both sides.
  await visitor.page.reload();
  await hydrated(visitor.page);
  await visitor.page.getByTestId("widget-launcher").click();
  await expect(rows(visitor.page, "visitor")).toHaveCount(2);
  await expect(rows(visitor.page, "visitor").last()).toHaveAttribute("data-seen", "true");
  await agent.page.reload();
  await hydrated(agent.page);
  await expect(rows(agent.page, "agent")).toHaveCount(2);
  await expect(rows(agent.page, "agent").last()).toHaveAttribute("data-seen", "true");
});

test("unread counts come from the stored read positions, after reloads too", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  const agent = await newPage(browser);
  await signIn(agent.page, kefu, "Ann");
  const v1 = await newPage(browser);
  await openWidget(v1.page, kefu);
  await say(v1.page, "first visitor");
  const v2 = await newPage(browser);
  await openWidget(v2.page, kefu);
  await say(v2.page, "second visitor, one");
  await say(v2.page, "second visitor, two");

  const tabs = agent.page.getByTestId("conversation-tab");
  await expect(tabs).toHaveCount(2);
  await expect(tabs.nth(0)).toHaveAttribute("data-unread", "0");
  await expect(tabs.nth(1)).toHaveAttribute("data-unread", "2");
  await expect(rows(v2.page, "visitor").last()).not.toHaveAttribute("data-seen", "true");

  // A reloaded console shows old messages as read, and unread ones still unread.
  await agent.page.reload();
  await hydrated(agent.page);
  await expect(tabs).toHaveCount(2);
  await expect(tabs.nth(1)).toHaveAttribute("data-unread", "2");
  await expect(tabs.nth(0)).toHaveAttribute("data-unread", "0");
  await expect(agent.page).toHaveTitle("(2) kefu");
  await tabs.nth(1).click();
  await expect(tabs.nth(1)).toHaveAttribute("data-unread", "0");
  await expect(rows(v2.page, "visitor").last()).toHaveAttribute("data-seen", "true");
  await agent.page.reload();
  await hydrated(agent.page);
  await expect(tabs).toHaveCount(2);
  await expect(tabs.nth(0)).toHaveAttribute("data-unread", "0");
  await expect(tabs.nth(1)).toHaveAttribute("data-unread", "0");
  await expect(agent.page).toHaveTitle("kefu");

  // The widget: replies that came while it was minimised stay unread
  // across a reload, and read ones do not come back.
  await v2.page.getByTestId("widget-launcher").click();
  await tabs.nth(1).click();
  await say(agent.page, "reply one");
  await say(agent.page, "reply two");
  await expect(v2.page.getByTestId("widget-unread")).toHaveText("2");
  await v2.page.reload();
  await hydrated(v2.page);
  await expect(v2.page.getByTestId("widget-unread")).toHaveText("2");
  await v2.page.getByTestId("widget-launcher").click();
  await expect(v2.page.getByTestId("widget-unread")).toHaveCount(0);
  await v2.page.reload();
  await hydrated(v2.page);
  await expect(v2.page.getByTestId("widget-launcher")).toBeVisible();
  await v2.page.waitForTimeout(1_000);
  await expect(v2.page.getByTestId("widget-unread")).toHaveCount(0);
});
