// Many conversations per agent: tabs, unread badges, title, scrolling.
import { test, expect, openWidget, signIn, say, newPage, messages, hydrated } from "./fixtures";

test("two visitors give two tabs with unread badges and a title count", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  const agent = await newPage(browser);
  await signIn(agent.page, kefu, "Ann");

  const v1 = await newPage(browser);
  await openWidget(v1.page, kefu);
  await say(v1.page, "first visitor here");
  const v2 = await newPage(browser);
  await openWidget(v2.page, kefu);

  const tabs = agent.page.getByTestId("conversation-tab");
  await expect(tabs).toHaveCount(2);
  // The first tab is in front, so its message is read at once.
  await expect(tabs.nth(0)).toHaveAttribute("data-unread", "0");
  await expect(tabs.nth(0)).toContainText("first visitor here");

  await say(v2.page, "second visitor, message one");
  await say(v2.page, "second visitor, message two");
  await expect(tabs.nth(1)).toHaveAttribute("data-unread", "2");
  await expect(tabs.nth(1)).toHaveClass(/lit/);
  await expect(tabs.nth(1)).toContainText("second visitor, message two");
  await expect(agent.page).toHaveTitle("(2) kefu");

  await tabs.nth(1).click();
  await expect(tabs.nth(1)).toHaveAttribute("data-unread", "0");
  await expect(agent.page).toHaveTitle("kefu");
  await expect(messages(agent.page, "visitor")).toHaveText(["second visitor, message one", "second visitor, message two"]);

  // The badge comes back for the tab behind.
  await say(v1.page, "hello again");
  await expect(tabs.nth(0)).toHaveAttribute("data-unread", "1");
  await expect(agent.page).toHaveTitle("(1) kefu");

  // The widget counts unread agent messages on its launcher while closed.
  await v2.page.getByTestId("widget-launcher").click();
  await expect(v2.page.getByTestId("widget-panel")).toHaveCount(0);
  await say(agent.page, "reply one");
  await say(agent.page, "reply two");
  await expect(v2.page.getByTestId("widget-unread")).toHaveText("2");
  await v2.page.getByTestId("widget-launcher").click();
  await expect(v2.page.getByTestId("widget-unread")).toHaveCount(0);
  await expect(messages(v2.page, "agent")).toHaveCount(2);
});

test("the list follows new messages at the bottom, and shows a pill when scrolled up", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  const agent = await newPage(browser);
  await signIn(agent.page, kefu, "Ann");
  const visitor = await newPage(browser);
  await openWidget(visitor.page, kefu);
  for (let i = 1; i <= 25; i++) await say(visitor.page, `line ${i}`);
  await expect(messages(agent.page, "visitor")).toHaveCount(25);
  const list = agent.page.getByTestId("message-list");
  const atBottom = () => list.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 40);
  await expect.poll(atBottom).toBe(true);

  await list.evaluate((el) => { el.scrollTop = 0; el.dispatchEvent(new Event("scroll")); });
  await say(visitor.page, "while scrolled up");
  await expect(agent.page.getByTestId("new-messages")).toBeVisible();
  expect(await atBottom()).toBe(false);
  await agent.page.getByTestId("new-messages").click();
  await expect.poll(atBottom).toBe(true);
  await expect(agent.page.getByTestId("new-messages")).toHaveCount(0);
});

test("a tab's preview is what a person last said, never a system notice", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  const visitor = await newPage(browser);
  await visitor.page.goto(kefu.url + "/widget");
  await hydrated(visitor.page);
  await visitor.page.getByTestId("widget-launcher").click();
  await expect(visitor.page.getByTestId("offline-form")).toBeVisible();
  await say(visitor.page, "Please call me back about invoice 42");
  await expect(visitor.page.getByTestId("widget-status")).toContainText("saved");

  // Ann signs in: the conversation is assigned to her (a system message
  // after the visitor's), and the tab still shows the visitor's words.
  const agent = await newPage(browser);
  await signIn(agent.page, kefu, "Ann");
  const tab = agent.page.getByTestId("conversation-tab");
  await expect(messages(agent.page, "system")).toHaveCount(1);
  await expect(tab.getByTestId("tab-preview")).toHaveText("Please call me back about invoice 42");

  // Her own reply reads "You: …", here and after a reload.
  await say(agent.page, "Calling you in five minutes");
  await expect(tab.getByTestId("tab-preview")).toHaveText("You: Calling you in five minutes");
  await agent.page.reload();
  await hydrated(agent.page);
  await expect(agent.page.getByTestId("conversation-tab").getByTestId("tab-preview")).toHaveText(
    "You: Calling you in five minutes",
  );
});
