// Chinese and English: the widget follows the visitor's browser, the console
// the agent's choice (stored, and kept across reloads).
import { test, expect, signIn, say, newPage, messages, hydrated, openEmbedded } from "./fixtures";

test("a zh-CN browser on a host site sees the widget in Chinese, system notices included", async ({ browser, kefu, host }) => {
  kefu.addAgent("Ann");
  const agent = await newPage(browser, { locale: "en-US" });
  await signIn(agent.page, kefu, "Ann");

  const visitor = await newPage(browser, { locale: "zh-CN" });
  await visitor.page.goto(host.page());
  const launcher = visitor.page.getByTestId("widget-launcher");
  await expect(launcher).toHaveAttribute("aria-label", "在线咨询");
  const chat = await openEmbedded(visitor.page, host.page());
  await expect(chat.locator("html")).toHaveAttribute("lang", "zh-CN");
  await expect(messages(chat, "system")).toHaveText(["Ann 将为您服务"]);
  await expect(chat.getByTestId("widget-status")).toHaveText("Ann 正在为您服务");
  await expect(chat.getByTestId("composer")).toHaveAttribute("placeholder", "请输入消息…");
  await say(chat, "你好，我想问一下订单");
  await expect(messages(agent.page, "visitor")).toHaveText(["你好，我想问一下订单"]);
  // Times in each reader's language: 24-hour in Chinese, with the date in
  // the tooltip; AM/PM in the English console.
  const mine = chat.getByTestId("message").filter({ hasText: "你好" }).getByTestId("message-time");
  await expect(mine).toHaveText(/^\d{2}:\d{2}$/);
  await expect(mine).toHaveAttribute("title", /\d{4}年\d{1,2}月\d{1,2}日/);
  await expect(agent.page.getByTestId("message").filter({ hasText: "你好" }).getByTestId("message-time")).toHaveText(/^\d{2}:\d{2}\s?(AM|PM)$/);
  // The agent's English console is not changed by the visitor's language.
  await expect(messages(agent.page, "system")).toHaveText(["Assigned to Ann"]);

  // A presence notice, in Chinese.
  await agent.page.close();
  await expect(messages(chat, "system").last()).toHaveText("客服已离线");
});

test("the snippet's data-lang wins over the browser's languages", async ({ browser, kefu, host }) => {
  kefu.addAgent("Ann");
  const english = await newPage(browser, { locale: "en-US" });
  await english.page.goto(host.page({ lang: "zh-CN" }));
  await expect(english.page.getByTestId("widget-launcher")).toHaveAttribute("aria-label", "在线咨询");
  const chat = await openEmbedded(english.page, host.page({ lang: "zh-CN" }));
  await expect(chat.locator("html")).toHaveAttribute("lang", "zh-CN");
  await expect(chat.getByTestId("widget-status")).toHaveText("当前没有客服在线。");

  const chinese = await newPage(browser, { locale: "zh-CN" });
  const en = await openEmbedded(chinese.page, host.page({ lang: "en" }));
  await expect(en.locator("html")).toHaveAttribute("lang", "en");
  await expect(en.getByTestId("composer")).toHaveAttribute("placeholder", "Type your message…");
});

test("an agent switches the console to Chinese and back; the choice survives a reload and follows them to a new browser", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  const agent = await newPage(browser, { locale: "en-US" });
  await signIn(agent.page, kefu, "Ann");
  await expect(agent.page.locator("html")).toHaveAttribute("lang", "en");
  await expect(agent.page.getByTestId("sign-out")).toHaveText("Sign out");

  await agent.page.getByTestId("lang-switch").selectOption("zh-CN");
  await expect(agent.page.locator("html")).toHaveAttribute("lang", "zh-CN");
  await hydrated(agent.page);
  await expect(agent.page.getByTestId("sign-out")).toHaveText("退出");
  await expect(agent.page.getByTestId("lang-switch")).toHaveValue("zh-CN");

  await agent.page.reload();
  await hydrated(agent.page);
  await expect(agent.page.getByTestId("sign-out")).toHaveText("退出");

  // A visitor's tab is labelled in Chinese too.
  const visitor = await newPage(browser, { locale: "en-US" });
  await visitor.page.goto(kefu.url + "/widget");
  await hydrated(visitor.page);
  await visitor.page.getByTestId("widget-launcher").click();
  await say(visitor.page, "hello");
  await expect(agent.page.getByTestId("conversation-tab").locator(".label")).toHaveText(/^访客 \d+$/);
  await expect(messages(agent.page, "system")).toHaveText([/^已分配给 Ann$/]);

  // Stored for the agent: another browser (English) turns Chinese as soon as Ann signs in there.
  const other = await newPage(browser, { locale: "en-US" });
  await signIn(other.page, kefu, "Ann");
  await expect(other.page.locator("html")).toHaveAttribute("lang", "zh-CN");
  await expect(other.page.getByTestId("sign-out")).toHaveText("退出");
  await other.page.reload();
  await hydrated(other.page);
  await expect(other.page.getByTestId("sign-out")).toHaveText("退出");

  await agent.page.getByTestId("lang-switch").selectOption("en");
  await expect(agent.page.locator("html")).toHaveAttribute("lang", "en");
  await hydrated(agent.page);
  await expect(agent.page.getByTestId("sign-out")).toHaveText("Sign out");
  await agent.page.reload();
  await hydrated(agent.page);
  await expect(agent.page.getByTestId("sign-out")).toHaveText("Sign out");
});
