// Delivery across a dropped network: nothing lost, duplicated or reordered.
import { test, expect, openWidget, signIn, say, newPage, messages, rows } from "./fixtures";

test("visitor offline: three messages wait as pending, then arrive once, in order", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  const agent = await newPage(browser);
  await signIn(agent.page, kefu, "Ann");
  const visitor = await newPage(browser);
  await openWidget(visitor.page, kefu);
  await say(visitor.page, "before");
  await expect(messages(agent.page, "visitor")).toHaveText(["before"]);

  await visitor.context.setOffline(true);
  await expect(visitor.page.getByTestId("reconnecting")).toBeVisible();
  for (const t of ["one", "two", "three"]) await say(visitor.page, t);
  await expect(rows(visitor.page, "visitor").filter({ hasText: /^(one|two|three)/ })).toHaveCount(3);
  for (const r of await rows(visitor.page, "visitor").all()) {
    if ((await r.locator(".text").textContent()) !== "before") await expect(r).toHaveAttribute("data-state", "pending");
  }
  await agent.page.waitForTimeout(1_000);
  await expect(messages(agent.page, "visitor")).toHaveText(["before"]);

  await visitor.context.setOffline(false);
  await expect(visitor.page.getByTestId("reconnecting")).toHaveCount(0);
  await expect(messages(agent.page, "visitor")).toHaveText(["before", "one", "two", "three"]);
  await expect(rows(visitor.page, "visitor").and(visitor.page.locator('[data-state="sent"]'))).toHaveCount(4);
  // Once: nothing more arrives after a few retry periods.
  await agent.page.waitForTimeout(4_000);
  await expect(messages(agent.page, "visitor")).toHaveText(["before", "one", "two", "three"]);
  await expect(messages(visitor.page, "visitor")).toHaveText(["before", "one", "two", "three"]);
});

test("agent offline: replies wait as pending, then arrive once, in order", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  const agent = await newPage(browser);
  await signIn(agent.page, kefu, "Ann");
  const visitor = await newPage(browser);
  await openWidget(visitor.page, kefu);
  await say(visitor.page, "hello?");
  await expect(messages(agent.page, "visitor")).toHaveText(["hello?"]);

  await agent.context.setOffline(true);
  await expect(agent.page.getByTestId("reconnecting")).toBeVisible();
  for (const t of ["a", "b", "c"]) await say(agent.page, t);
  await expect(rows(agent.page, "agent").and(agent.page.locator('[data-state="pending"]'))).toHaveCount(3);
  // Meanwhile the visitor keeps writing; the agent gets it after coming back.
  await say(visitor.page, "are you there?");

  await agent.context.setOffline(false);
  await expect(agent.page.getByTestId("reconnecting")).toHaveCount(0);
  await expect(messages(visitor.page, "agent")).toHaveText(["a", "b", "c"]);
  await expect(messages(agent.page, "visitor")).toHaveText(["hello?", "are you there?"]);
  await expect(rows(agent.page, "agent").and(agent.page.locator('[data-state="sent"]'))).toHaveCount(3);
  await visitor.page.waitForTimeout(4_000);
  await expect(messages(visitor.page, "agent")).toHaveText(["a", "b", "c"]);
});
