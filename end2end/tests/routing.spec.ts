// Capacity, the queue, and the grace period.
import { test, expect, openWidget, signIn, say, newPage, messages } from "./fixtures";

test("when every agent is full, visitors wait in a queue with a live position", async ({ browser, kefu }) => {
  kefu.addAgent("Ann", { capacity: 1 });
  const agent = await newPage(browser);
  await signIn(agent.page, kefu, "Ann");
  const v1 = await newPage(browser);
  await openWidget(v1.page, kefu);
  await expect(messages(v1.page, "system")).toHaveText(["Ann will serve you"]);

  const v2 = await newPage(browser);
  await openWidget(v2.page, kefu);
  await expect(v2.page.getByTestId("queue-position")).toHaveAttribute("data-position", "1");
  const v3 = await newPage(browser);
  await openWidget(v3.page, kefu);
  await expect(v3.page.getByTestId("queue-position")).toHaveAttribute("data-position", "2");
  await say(v3.page, "I am waiting");

  await agent.page.getByTestId("close-conversation").click();
  await expect(messages(v2.page, "system")).toHaveText(["Ann will serve you"]);
  await expect(v2.page.getByTestId("queue-position")).toHaveCount(0);
  await expect(v3.page.getByTestId("queue-position")).toHaveAttribute("data-position", "1");
  await expect(agent.page.getByTestId("conversation-tab")).toHaveCount(1);
});

test.describe("grace period", () => {
  test.use({ graceSecs: 3 });

  test("an agent away past the grace period loses the conversation to another agent", async ({ browser, kefu }) => {
    kefu.addAgent("Ann");
    kefu.addAgent("Bob");
    const ann = await newPage(browser);
    await signIn(ann.page, kefu, "Ann");
    const visitor = await newPage(browser);
    await openWidget(visitor.page, kefu);
    await say(visitor.page, "hello Ann");
    await expect(messages(ann.page, "visitor")).toHaveCount(1);

    const bob = await newPage(browser);
    await signIn(bob.page, kefu, "Bob");
    await expect(bob.page.getByTestId("conversation-tab")).toHaveCount(0);

    await ann.context.close();
    await expect(messages(visitor.page, "system").last()).toHaveText("The agent went offline");
    await expect(messages(visitor.page, "system").last()).toHaveText("Bob will serve you", { timeout: 15_000 });
    await expect(bob.page.getByTestId("conversation-tab")).toHaveCount(1);
    await expect(messages(bob.page, "visitor")).toHaveText(["hello Ann"]);
    await say(bob.page, "Bob here");
    await expect(messages(visitor.page, "agent")).toHaveText(["Bob here"]);
  });

  test("an agent back within the grace period keeps the conversation", async ({ browser, kefu }) => {
    kefu.addAgent("Ann");
    const ann = await newPage(browser);
    await signIn(ann.page, kefu, "Ann");
    const visitor = await newPage(browser);
    await openWidget(visitor.page, kefu);
    await say(visitor.page, "still there?");
    await expect(messages(ann.page, "visitor")).toHaveCount(1);
    await ann.page.reload();
    await expect(ann.page.getByTestId("conversation-tab")).toHaveCount(1);
    await visitor.page.waitForTimeout(4_000);
    await expect(messages(visitor.page, "system").filter({ hasText: "no longer available" })).toHaveCount(0);
    await say(ann.page, "yes");
    await expect(messages(visitor.page, "agent")).toHaveText(["yes"]);
  });
});
