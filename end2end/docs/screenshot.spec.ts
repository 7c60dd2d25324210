// Not a test: makes docs/screenshot.png (widget and console side by side)
// for the README. Run with `make screenshot`.
import * as fs from "node:fs";
import * as path from "node:path";
import { test, openWidget, openEmbedded, signIn, say, newPage, messages, expect } from "../tests/fixtures";

test("README screenshot", async ({ browser, kefu, host }) => {
  kefu.addAgent("Ann");
  const agent = await newPage(browser);
  await agent.page.setViewportSize({ width: 1280, height: 680 });
  await signIn(agent.page, kefu, "Ann");
  const other = await newPage(browser);
  await openWidget(other.page, kefu);
  await say(other.page, "Do you ship to Lyon?");
  const visitor = await newPage(browser, { locale: "en-GB" });
  await visitor.page.setViewportSize({ width: 480, height: 680 });
  const chat = await openEmbedded(visitor.page, host.page({ path: "/orders/1042" }));
  await say(chat, "Hi! My order #1042 hasn't arrived yet.");
  await agent.page.getByTestId("conversation-tab").nth(1).click();
  await agent.page.getByTestId("composer-mode").selectOption("note");
  await say(agent.page, "Carrier delay in Lyon this week: offer a refund if over 5 days.");
  await agent.page.getByTestId("composer-mode").selectOption("reply");
  await say(agent.page, "Sorry about that! Let me check the tracking for you.");
  await expect(messages(chat, "agent")).toHaveCount(1);
  await say(chat, "Thank you <3");
  await expect(messages(agent.page, "visitor")).toHaveCount(2);
  await expect(agent.page.locator('[data-seen="true"]').first()).toBeAttached();
  await chat.getByTestId("composer").pressSequentially("Could you also change the delivery", { delay: 20 });
  await expect(agent.page.getByTestId("draft-preview")).toHaveText("Could you also change the delivery");
  await expect(agent.page.getByTestId("visitor-info").locator('[data-field="page_url"]')).toContainText("/orders/1042");

  const left = (await visitor.page.screenshot()).toString("base64");
  const right = (await agent.page.screenshot()).toString("base64");
  const sheet = await browser.newPage({ viewport: { width: 1790, height: 700 } });
  await sheet.setContent(`<body style="margin:0;background:#d1d5db;display:flex;gap:10px;padding:10px">
    <img src="data:image/png;base64,${left}"><img src="data:image/png;base64,${right}"></body>`);
  const out = path.resolve(__dirname, "..", "..", "docs", "screenshot.png");
  fs.writeFileSync(out, await sheet.screenshot());
});

// Makes docs/embed-zh.png: the chat in Chinese, embedded with the snippet
// on a page of another site.
test("README embed screenshot (zh-CN)", async ({ browser, kefu, host }) => {
  kefu.addAgent("小王");
  const agent = await newPage(browser, { locale: "zh-CN" });
  await signIn(agent.page, kefu, "小王");
  const visitor = await newPage(browser, { locale: "zh-CN" });
  await visitor.page.setViewportSize({ width: 900, height: 700 });
  const chat = await openEmbedded(visitor.page, host.page());
  await say(chat, "你好，我的订单 #1042 还没有到。");
  await expect(messages(agent.page, "visitor")).toHaveCount(1);
  await say(agent.page, "您好！我来帮您查一下物流信息。");
  await expect(messages(chat, "agent")).toHaveCount(1);
  await visitor.page.evaluate(() => {
    const h = document.querySelector("h1");
    if (h) h.textContent = "某某商城 — 客户的网站";
    document.head.querySelector("style")?.remove();
  });
  const out = path.resolve(__dirname, "..", "..", "docs", "embed-zh.png");
  fs.writeFileSync(out, await visitor.page.screenshot());
});
