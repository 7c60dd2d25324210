// Closed conversations and search (issue 13, item 8): an agent pages
// through the conversations they closed and finds an English and a Chinese
// phrase; a hit shows the matching words and opens the conversation
// read-only at that message.
import { test, expect, openWidget, signIn, say, newPage, messages } from "./fixtures";

test("search finds an English and a Chinese phrase and opens the closed conversation at the message", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  const ann = await newPage(browser);
  await signIn(ann.page, kefu, "Ann");

  const visitor = await newPage(browser);
  await openWidget(visitor.page, kefu);
  await say(visitor.page, "Where is my refund for order 12345?");
  await say(visitor.page, "我想申请退款，订单还没到");
  await ann.page.getByTestId("conversation-tab").click();
  await expect(messages(ann.page, "visitor")).toHaveCount(2);
  await say(ann.page, "Your parcel left the warehouse today.");
  await expect(messages(visitor.page, "agent")).toHaveText(["Your parcel left the warehouse today."]);
  await ann.page.getByTestId("close-conversation").click();
  await expect(ann.page.getByTestId("conversation-tab")).toHaveCount(0);

  await ann.page.getByTestId("history-toggle").click();
  const closed = ann.page.getByTestId("closed-list").getByTestId("closed-item");
  await expect(closed).toHaveCount(1);
  await expect(closed.first()).toContainText("Your parcel left the warehouse today.");

  // English: the hit shows the matching words.
  const search = ann.page.getByTestId("conversation-search");
  await search.fill("REFUND order");
  await search.press("Enter");
  const results = ann.page.getByTestId("search-result");
  await expect(results).toHaveCount(1);
  await expect(results.first().locator("mark")).toHaveText("refund");
  await expect(results.first()).toContainText("for order 12345?");
  await results.first().click();
  const view = ann.page.getByTestId("read-only-conversation");
  await expect(view).toBeVisible();
  await expect(messages(view as any, "visitor")).toHaveCount(2);
  await expect(view.locator('[data-highlight="true"] .text')).toHaveText("Where is my refund for order 12345?");
  await expect(view.getByTestId("composer")).toHaveCount(0);
  await view.getByTestId("read-only-back").click();
  await expect(view).toHaveCount(0);

  // Chinese: a two-character word (too short for the trigram index) and a phrase.
  for (const query of ["退款", "申请退款"]) {
    await search.fill(query);
    await search.press("Enter");
    await expect(results).toHaveCount(1);
    await expect(results.first().locator("mark")).toHaveText(query);
  }
  await results.first().click();
  await expect(view.locator('[data-highlight="true"] .text')).toHaveText("我想申请退款，订单还没到");
  await expect(view.locator('[data-highlight="true"]')).toBeInViewport();

  // Quotes and operators are taken literally: nothing found, no error.
  await search.fill('"refund OR NEAR(');
  await search.press("Enter");
  await expect(ann.page.getByTestId("no-results")).toBeVisible();
  await expect(ann.page.getByRole("alert")).toHaveCount(0);

  // The closed conversation opens read-only with its whole history.
  await closed.first().click();
  await expect(messages(view as any)).toContainText(["Where is my refund for order 12345?", "我想申请退款，订单还没到", "Your parcel left the warehouse today."]);
});
