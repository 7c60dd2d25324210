// Canned replies (issue 13, item 4): kept in the console's panel; in the
// composer, "/" and letters open the list filtered as one types; ↑/↓, Enter
// and Esc work; choosing fills the composer (placeholders filled) and
// nothing is sent until the agent sends. The widget's composer has no list.
import { test, expect, openWidget, signIn, say, newPage, messages } from "./fixtures";

test("a canned reply chosen by keyboard fills the composer, and is sent only on send", async ({ browser, kefu }) => {
  kefu.addAgent("Ann", { admin: true });
  const ann = await newPage(browser);
  await signIn(ann.page, kefu, "Ann");

  // Ann keeps a shared reply and one of her own.
  await ann.page.getByTestId("canned-toggle").click();
  const form = ann.page.getByTestId("canned-form");
  await form.locator('input[name="shortcut"]').fill("refund");
  await form.locator('textarea[name="text"]').fill("Hi {visitor_name}, this is {agent_name}: your refund is on its way.");
  await form.locator('input[name="shared"]').check();
  await form.locator('button[type="submit"]').click();
  await expect(ann.page.getByTestId("canned-row")).toHaveCount(1);
  await form.locator('input[name="shortcut"]').fill("thanks");
  await form.locator('textarea[name="text"]').fill("Thank you, {visitor_name}!");
  await form.locator('button[type="submit"]').click();
  await expect(ann.page.getByTestId("canned-row")).toHaveCount(2);
  // A taken shortcut is refused with words saying so.
  await form.locator('input[name="shortcut"]').fill("Thanks");
  await form.locator('textarea[name="text"]').fill("again");
  await form.locator('button[type="submit"]').click();
  await expect(ann.page.getByTestId("canned-error")).toHaveText("A reply with that shortcut exists already.");
  await expect(ann.page.getByTestId("canned-row")).toHaveCount(2);
  await ann.page.getByTestId("canned-toggle").click();

  const visitor = await newPage(browser);
  await openWidget(visitor.page, kefu);
  await say(visitor.page, "I want my money back");
  await ann.page.getByTestId("conversation-tab").click();
  await expect(messages(ann.page, "visitor")).toHaveText(["I want my money back"]);
  const label = await ann.page.locator(".conversation-header h2").innerText();
  expect(label).toMatch(/^Visitor \d+$/);

  const composer = ann.page.getByTestId("composer");
  await composer.pressSequentially("/");
  const list = ann.page.getByTestId("canned-list");
  await expect(list).toBeVisible();
  const items = list.getByTestId("canned-item");
  await expect(items).toHaveCount(2);
  await expect(items.nth(0)).toHaveAttribute("aria-selected", "true");
  // Filtered as one types.
  await composer.pressSequentially("th");
  await expect(items).toHaveCount(1);
  await expect(items.first()).toHaveAttribute("data-shortcut", "thanks");
  // Esc closes the list and keeps the text; typing on opens it again.
  await composer.press("Escape");
  await expect(list).toBeHidden();
  await expect(composer).toHaveValue("/th");
  await composer.press("Backspace");
  await composer.press("Backspace");
  await expect(items).toHaveCount(2);
  // ↓ and ↑ move; Enter chooses.
  await composer.press("ArrowDown");
  await expect(items.nth(1)).toHaveAttribute("aria-selected", "true");
  await composer.press("ArrowUp");
  await expect(items.nth(0)).toHaveAttribute("aria-selected", "true");
  await expect(items.nth(0)).toHaveAttribute("data-shortcut", "refund");
  await composer.press("Enter");
  await expect(list).toBeHidden();
  const filled = `Hi ${label}, this is Ann: your refund is on its way.`;
  await expect(composer).toHaveValue(filled);

  // Nothing was sent: neither side shows it yet.
  await expect(messages(ann.page, "agent")).toHaveCount(0);
  await ann.page.waitForTimeout(300);
  await expect(messages(visitor.page, "agent")).toHaveCount(0);

  // The agent sends it.
  await composer.press("Enter");
  await expect(messages(visitor.page, "agent")).toHaveText([filled]);
  await expect(composer).toHaveValue("");

  // The widget's composer has no canned-reply list.
  await visitor.page.getByTestId("composer").pressSequentially("/th");
  await visitor.page.waitForTimeout(200);
  await expect(visitor.page.getByTestId("canned-list")).toHaveCount(0);
});
