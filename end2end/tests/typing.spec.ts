// Typing (issue 13, item 1): "Ann is typing…" in the widget; "typing…" on
// the console's tab and in its pane with a live preview of the visitor's
// draft, which an admin can turn off.
import { test, expect, openWidget, signIn, say, newPage, messages } from "./fixtures";

test("each side sees the other typing, and the agent sees the visitor's draft", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  const agent = await newPage(browser);
  await signIn(agent.page, kefu, "Ann");
  const visitor = await newPage(browser);
  await openWidget(visitor.page, kefu);
  await say(visitor.page, "hello");
  await expect(messages(agent.page, "visitor")).toHaveText(["hello"]);
  const tab = agent.page.getByTestId("conversation-tab");
  const pane = agent.page.locator("section.conversation");

  // The visitor types without sending: the agent sees it, and the draft
  // as it grows (the latest text arrives even when typed quickly).
  const composer = visitor.page.getByTestId("composer");
  await composer.pressSequentially("where is my order?", { delay: 30 });
  await expect(tab.getByTestId("typing-indicator")).toBeVisible();
  await expect(pane.getByTestId("typing-indicator")).toHaveText("typing…");
  await expect(pane.getByTestId("draft-preview")).toHaveText("where is my order?");
  // Sent: the indicator ends at once, well before its 5 s.
  await composer.press("Enter");
  await expect(pane.getByTestId("typing-indicator")).toHaveCount(0, { timeout: 2_000 });
  await expect(tab.getByTestId("typing-indicator")).toHaveCount(0, { timeout: 2_000 });
  await expect(messages(agent.page, "visitor")).toHaveText(["hello", "where is my order?"]);

  // Ann types: the visitor sees her name; she stops, it ends within 5 s
  // of her last keystroke.
  const reply = agent.page.getByTestId("composer");
  await reply.pressSequentially("let me check", { delay: 30 });
  const indicator = visitor.page.getByTestId("typing-indicator");
  await expect(indicator).toHaveText("Ann is typing…");
  await expect(indicator).toHaveCount(0, { timeout: 5_500 });
  // She types again and sends: it ends at once.
  await reply.pressSequentially(", one moment", { delay: 30 });
  await expect(indicator).toBeVisible();
  await reply.press("Enter");
  await expect(indicator).toHaveCount(0, { timeout: 2_000 });
  await expect(messages(visitor.page, "agent")).toHaveText(["let me check, one moment"]);
  // Nothing typed was stored: no stray lines on either side.
  await expect(messages(visitor.page)).toHaveCount(4);
});

test("with draft previews off, the agent sees the visitor typing but not the text", async ({ browser, kefu }) => {
  kefu.addAgent("Ann", { admin: true });
  const agent = await newPage(browser);
  await signIn(agent.page, kefu, "Ann");
  await agent.page.getByTestId("settings-toggle").click();
  const setting = agent.page.getByTestId("draft-preview-setting");
  await expect(setting).toBeChecked();
  await setting.uncheck();
  await agent.page.getByTestId("settings-form").locator('button[type="submit"]').click();
  await expect(agent.page.getByTestId("settings-outcome")).toHaveClass(/ok/);

  const visitor = await newPage(browser);
  await openWidget(visitor.page, kefu);
  await say(visitor.page, "hello");
  await expect(messages(agent.page, "visitor")).toHaveText(["hello"]);
  await visitor.page.getByTestId("composer").pressSequentially("my card number is 4111", { delay: 30 });
  const pane = agent.page.locator("section.conversation");
  await expect(pane.getByTestId("typing-indicator")).toBeVisible();
  await expect(pane.getByTestId("draft-preview")).toHaveCount(0);
  await expect(agent.page.getByText("4111")).toHaveCount(0);

  // The choice is kept: the form shows it unticked after a reload.
  await agent.page.reload();
  await agent.page.getByTestId("settings-toggle").click();
  await expect(agent.page.getByTestId("draft-preview-setting")).not.toBeChecked();
});
