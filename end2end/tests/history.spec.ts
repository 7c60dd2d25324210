// Long conversations open on their newest page; older pages load on demand.
import { test, expect, openWidget, signIn, say, newPage, messages, hydrated } from "./fixtures";
import type { Page } from "@playwright/test";

// 120 messages typed quickly: lift the per-connection rate limit for this file.
test.use({ serverEnv: { KEFU_MSG_BURST: "1000", KEFU_MSG_RATE: "1000", KEFU_ADDR_MSG_BURST: "1000", KEFU_ADDR_MSG_RATE: "1000" } });

const PAGE = 50;
const label = (k: number) => `m ${k}`;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => label(from + i));

/** Clicks "earlier messages" and checks the message that was on top stays in view. */
async function loadEarlier(page: Page, expectTotal: number): Promise<void> {
  const list = page.getByTestId("message-list");
  const top = messages(page).first();
  const text = await top.textContent();
  await list.evaluate((el) => (el.scrollTop = 0));
  await page.getByTestId("load-earlier").click();
  await expect(messages(page)).toHaveCount(expectTotal);
  // The reader keeps their place: the former top message is still on screen.
  const row = messages(page).filter({ hasText: new RegExp(`^${text}$`) });
  await expect(row).toBeInViewport();
}

test("a long conversation opens on its newest page and loads earlier pages on demand", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  const agent = await newPage(browser);
  await signIn(agent.page, kefu, "Ann");
  const visitor = await newPage(browser);
  await openWidget(visitor.page, kefu);
  for (let k = 1; k <= 120; k++) await say(visitor.page, label(k));
  await expect(messages(agent.page, "visitor")).toHaveCount(120);
  await expect(agent.page.getByTestId("load-earlier")).toHaveCount(0);

  // Stored: "Assigned to Ann" then m 1..m 120. A fresh console shows the newest 50.
  await agent.page.reload();
  await hydrated(agent.page);
  await agent.page.getByTestId("conversation-tab").click();
  await expect(messages(agent.page)).toHaveText(range(71, 120));
  await loadEarlier(agent.page, 2 * PAGE);
  await expect(messages(agent.page).first()).toHaveText(label(21));
  await loadEarlier(agent.page, 121);
  await expect(messages(agent.page).first()).toHaveText("Assigned to Ann");
  await expect(agent.page.getByTestId("load-earlier")).toHaveCount(0);

  // The visitor's widget pages the same way, and live messages still arrive.
  await visitor.page.reload();
  await hydrated(visitor.page);
  await visitor.page.getByTestId("widget-launcher").click();
  await expect(messages(visitor.page)).toHaveText(range(71, 120));
  await loadEarlier(visitor.page, 2 * PAGE);
  await say(agent.page, "still live");
  await expect(messages(visitor.page, "agent")).toHaveText(["still live"]);
  await expect(messages(visitor.page)).toHaveCount(2 * PAGE + 1);
});
