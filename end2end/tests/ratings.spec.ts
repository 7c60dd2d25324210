// Ratings (issue 14, item 3): once the agent closes the conversation, the
// visitor rates it in their language (1–5 and a comment); the agent sees
// the rating on the closed conversation — live while its view is open, and
// after a reload; a reloaded widget shows it rated and does not ask again.
import { test, expect, openWidget, signIn, say, newPage, messages, hydrated } from "./fixtures";

test("the visitor rates after the close and the agent sees the rating", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  const ann = await newPage(browser);
  await signIn(ann.page, kefu, "Ann");
  const visitor = await newPage(browser);
  await openWidget(visitor.page, kefu);
  await say(visitor.page, "Is the blue one in stock?");
  await ann.page.getByTestId("conversation-tab").click();
  await expect(messages(ann.page, "visitor")).toHaveCount(1);
  await say(ann.page, "Yes, ships today.");
  await expect(messages(visitor.page, "agent")).toHaveText(["Yes, ships today."]);
  // No form while the conversation is open.
  await expect(visitor.page.getByTestId("rating-form")).toHaveCount(0);

  await ann.page.getByTestId("close-conversation").click();
  await expect(ann.page.getByTestId("conversation-tab")).toHaveCount(0);
  // The agent keeps the closed conversation open in the history's view.
  await ann.page.getByTestId("history-toggle").click();
  await ann.page.getByTestId("closed-item").first().click();
  const view = ann.page.getByTestId("read-only-conversation");
  await expect(view).toBeVisible();
  await expect(view.getByTestId("rating")).toHaveCount(0);

  const form = visitor.page.getByTestId("rating-form");
  await expect(form).toBeVisible();
  await expect(form).toContainText("How was this conversation?");
  await expect(form.locator('input[type="radio"]')).toHaveCount(5);
  // No score chosen: the browser asks for one, nothing is sent.
  await form.locator('button[type="submit"]').click();
  await expect(form).toBeVisible();
  await form.locator('input[value="4"]').check();
  await form.locator("textarea").fill("Quick and friendly");
  await form.locator('button[type="submit"]').click();
  await expect(visitor.page.getByTestId("rated")).toHaveAttribute("data-score", "4");
  await expect(form).toHaveCount(0);

  // Live on the agent's open view, then after a reload.
  await expect(view.getByTestId("rating")).toHaveAttribute("data-score", "4");
  await expect(view.getByTestId("rating")).toContainText("Quick and friendly");
  // The widget reloaded: rated already, not asked again. (With no agent
  // online: an open widget starts a new conversation whenever one comes.)
  await ann.page.close();
  await visitor.page.reload();
  await hydrated(visitor.page);
  await visitor.page.getByTestId("widget-launcher").click();
  await expect(visitor.page.getByTestId("rated")).toHaveAttribute("data-score", "4");
  await expect(visitor.page.getByTestId("rating-form")).toHaveCount(0);

  // The agent, signed in again, still sees it.
  const again = await newPage(browser);
  await signIn(again.page, kefu, "Ann");
  await again.page.getByTestId("history-toggle").click();
  await again.page.getByTestId("closed-item").first().click();
  await expect(again.page.getByTestId("rating")).toHaveAttribute("data-score", "4");
});

test("the rating form speaks the visitor's language", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  const ann = await newPage(browser);
  await signIn(ann.page, kefu, "Ann");
  const visitor = await newPage(browser, { locale: "zh-CN" });
  await openWidget(visitor.page, kefu);
  await say(visitor.page, "你好");
  await ann.page.getByTestId("conversation-tab").click();
  await ann.page.getByTestId("close-conversation").click();
  const form = visitor.page.getByTestId("rating-form");
  await expect(form).toContainText("您对本次服务满意吗？");
  await expect(form.locator('button[type="submit"]')).toHaveText("提交评价");
  await form.locator('input[value="5"]').check();
  await form.locator('button[type="submit"]').click();
  await expect(visitor.page.getByTestId("rated")).toHaveText("感谢您的评价！");
});
