// Nothing is lost across reloads, and messages wait for agents who are away.
import { test, expect, openWidget, signIn, say, newPage, messages, rows, hydrated } from "./fixtures";

test("no agent online: leave a message; the next agent to sign in gets it", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  const visitor = await newPage(browser);
  await visitor.page.goto(kefu.url + "/widget");
  await expect(visitor.page.getByTestId("widget-launcher")).toHaveAttribute("data-online", "false");
  await hydrated(visitor.page);
  await visitor.page.getByTestId("widget-launcher").click();
  await expect(visitor.page.getByTestId("offline-form")).toBeVisible();
  await say(visitor.page, "Please call me back about invoice 42");
  await expect(rows(visitor.page, "visitor").first()).toHaveAttribute("data-state", "sent");
  await expect(visitor.page.getByTestId("widget-status")).toContainText("saved");

  const agent = await newPage(browser);
  await signIn(agent.page, kefu, "Ann");
  await expect(agent.page.getByTestId("conversation-tab")).toHaveCount(1);
  await expect(messages(agent.page, "visitor")).toHaveText(["Please call me back about invoice 42"]);
  await expect(messages(visitor.page, "system")).toHaveText(["Ann will serve you"]);
});

test("agent reload, a second tab and sign-in again keep every conversation and its history", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  const agent = await newPage(browser);
  await signIn(agent.page, kefu, "Ann");
  const v1 = await newPage(browser);
  await openWidget(v1.page, kefu);
  await say(v1.page, "from visitor one");
  const v2 = await newPage(browser);
  await openWidget(v2.page, kefu);
  await say(v2.page, "from visitor two");
  await expect(agent.page.getByTestId("conversation-tab")).toHaveCount(2);
  await say(agent.page, "answer to one");
  await expect(messages(v1.page, "agent")).toHaveCount(1);

  await agent.page.reload();
  await hydrated(agent.page);
  const tabs = agent.page.getByTestId("conversation-tab");
  await expect(tabs).toHaveCount(2);
  await tabs.nth(0).click();
  await expect(messages(agent.page)).toHaveText(["Assigned to Ann", "from visitor one", "answer to one"]);

  // A second tab of the same agent shows the same state, live.
  const second = await agent.context.newPage();
  await second.goto(kefu.url + "/console");
  await hydrated(second);
  await expect(second.getByTestId("conversation-tab")).toHaveCount(2);
  await say(v2.page, "new from two");
  await expect(agent.page.getByTestId("conversation-tab").nth(1)).toContainText("new from two");
  await expect(second.getByTestId("conversation-tab").nth(1)).toContainText("new from two");

  // The visitor noticed nothing: still served by Ann.
  await expect(v1.page.getByTestId("widget-status")).toHaveText("Ann is serving you");
});

test("visitor reload and a later visit keep the conversation and its history", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  const agent = await newPage(browser);
  await signIn(agent.page, kefu, "Ann");
  const visitor = await newPage(browser);
  await openWidget(visitor.page, kefu);
  await say(visitor.page, "my first message");
  await say(agent.page, "agent answer");
  await expect(messages(visitor.page, "agent")).toHaveCount(1);

  await visitor.page.reload();
  // A returning visitor's chat loads without a click.
  await hydrated(visitor.page);
  await visitor.page.getByTestId("widget-launcher").click();
  await expect(messages(visitor.page)).toHaveText(["Ann will serve you", "my first message", "agent answer"]);
  await say(visitor.page, "after reload");
  await expect(messages(agent.page, "visitor")).toHaveText(["my first message", "after reload"]);
  await expect(agent.page.getByTestId("conversation-tab")).toHaveCount(1);

  // Another visit later, in a new page of the same browser.
  await visitor.page.close();
  const later = await visitor.context.newPage();
  await openWidget(later, kefu);
  await expect(messages(later, "visitor")).toHaveText(["my first message", "after reload"]);
});
