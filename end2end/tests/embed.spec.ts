// One snippet on another site: the launcher drawn by embed.js on a host page
// of another origin, the chat in kefu's iframe, loaded only when opened (or
// at once for a returning visitor), the page <-> iframe messages and the
// host page's API, and refusal of sites not on the allowed list.
import { test, expect, signIn, say, newPage, messages, widgetFrame, openEmbedded, serveHost, freePort } from "./fixtures";
import type { Page } from "@playwright/test";

/** Every kefu script and wasm the page (or its frames) requests. */
function chatRequests(page: Page): string[] {
  const seen: string[] = [];
  page.on("request", (r) => {
    const url = new URL(r.url());
    if (url.pathname.startsWith("/pkg/") && /\.(js|wasm)$/.test(url.pathname)) seen.push(url.pathname);
  });
  return seen;
}

test("one snippet on another site: the launcher appears, the chat loads only when opened, with one socket", async ({ browser, kefu, host }) => {
  kefu.addAgent("Ann");
  const agent = await newPage(browser);
  await signIn(agent.page, kefu, "Ann");

  const visitor = await newPage(browser);
  const requested = chatRequests(visitor.page);
  const sockets: string[] = [];
  visitor.page.on("websocket", (ws) => sockets.push(ws.url()));
  await visitor.page.goto(host.page(), { waitUntil: "load" });
  const launcher = visitor.page.getByTestId("widget-launcher");
  await expect(launcher).toHaveAttribute("data-online", "true");
  // The host page's CSS (10 px red buttons) does not reach the launcher.
  const box = await launcher.boundingBox();
  expect(box?.width).toBe(56);
  await visitor.page.waitForTimeout(1_500);
  expect(requested, "chat code loaded before the chat was opened").toEqual([]);
  await expect(visitor.page.getByTestId("widget-frame")).toHaveCount(0);
  expect(sockets).toEqual([]);

  await launcher.click();
  const chat = widgetFrame(visitor.page);
  await expect(chat.getByTestId("widget-panel")).toBeVisible();
  // The panel's size is the widget's to say (the `size` message).
  await expect(visitor.page.getByTestId("widget-frame")).toHaveCSS("width", "384px");
  await expect(visitor.page.getByTestId("widget-frame")).toHaveCSS("height", "560px");
  await expect(messages(chat, "system")).toHaveText(["Ann will serve you"]);
  expect(requested.some((p) => p.endsWith(".wasm"))).toBe(true);
  await say(chat, "written on the shop's page");
  await expect(messages(agent.page, "visitor")).toHaveText(["written on the shop's page"]);
  await say(agent.page, "hello from support");
  await expect(messages(chat, "agent")).toHaveText(["hello from support"]);
  // Long enough for a second connection to show up, had one been opened.
  await visitor.page.waitForTimeout(1_500);
  expect(sockets.filter((u) => u.endsWith("/ws/visitor"))).toHaveLength(1);
  await expect(agent.page.getByText("Visitor left")).toHaveCount(0);
  await expect(agent.page.getByText("Visitor is back")).toHaveCount(0);

  // The launcher and the panel's own button both close it.
  await launcher.click();
  await expect(visitor.page.getByTestId("widget-frame")).toBeHidden();
  await launcher.click();
  await expect(chat.getByTestId("widget-panel")).toBeVisible();
  await chat.getByRole("button", { name: "Minimize" }).click();
  await expect(visitor.page.getByTestId("widget-frame")).toBeHidden();
});

test("a returning visitor keeps the history, and a reply raises the badge on the closed launcher", async ({ browser, kefu, host }) => {
  kefu.addAgent("Ann");
  const agent = await newPage(browser);
  await signIn(agent.page, kefu, "Ann");
  const visitor = await newPage(browser);
  const chat = await openEmbedded(visitor.page, host.page());
  await say(chat, "first visit");
  await expect(messages(agent.page, "visitor")).toHaveText(["first visit"]);

  // The next page of the same site: nothing clicked, the chat loads by itself (hidden).
  await visitor.page.goto(host.page({ path: "/another-page" }));
  await expect(visitor.page.getByTestId("widget-frame")).toBeAttached();
  await expect(visitor.page.getByTestId("widget-frame")).toBeHidden();
  await expect(widgetFrame(visitor.page).locator('[data-hydrated="true"]')).toBeAttached({ timeout: 20_000 });
  await say(agent.page, "a reply while the panel is closed");
  const badge = visitor.page.getByTestId("widget-unread");
  await expect(badge).toHaveText("1");
  // kefu('on', ...) on the host page heard the count and the message.
  await expect.poll(() => visitor.page.evaluate(() => (window as any).seen.unread.at(-1))).toBe(1);
  await expect.poll(() => visitor.page.evaluate(() => (window as any).seen.message)).toEqual(["a reply while the panel is closed"]);

  await visitor.page.getByTestId("widget-launcher").click();
  await expect(messages(widgetFrame(visitor.page), "visitor")).toHaveText(["first visit"]);
  await expect(messages(widgetFrame(visitor.page), "agent")).toHaveText(["a reply while the panel is closed"]);
  await expect(badge).toBeHidden();
});

test("the host page's API opens and closes the chat; messages from the page itself are not taken for the widget's", async ({ browser, kefu, host }) => {
  kefu.addAgent("Ann");
  const visitor = await newPage(browser);
  await visitor.page.goto(host.page());
  await expect(visitor.page.getByTestId("widget-launcher")).toBeVisible();
  await visitor.page.evaluate(() => (window as any).kefu("open"));
  const chat = widgetFrame(visitor.page);
  await expect(chat.getByTestId("widget-panel")).toBeVisible();
  await visitor.page.evaluate(() => (window as any).kefu("close"));
  await expect(visitor.page.getByTestId("widget-frame")).toBeHidden();

  // A script of the page (or another frame) posting as if it were the widget is ignored.
  await visitor.page.evaluate(() => window.postMessage(JSON.stringify({ kefu: 1, type: "unread", count: 7 }), "*"));
  await visitor.page.waitForTimeout(500);
  await expect(visitor.page.getByTestId("widget-unread")).toBeHidden();
  expect(await visitor.page.evaluate(() => (window as any).seen.unread)).not.toContain(7);
});

test("a site not on the allowed list gets no launcher, no chat and no socket, and its console says why", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  const other = await freePort();
  const stop = await serveHost(kefu.url, other);
  try {
    const visitor = await newPage(browser);
    const errors: string[] = [];
    visitor.page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    const sockets: string[] = [];
    visitor.page.on("websocket", (ws) => sockets.push(ws.url()));
    await visitor.page.goto(`http://localhost:${other}/`);
    await expect.poll(() => errors.join("\n")).toContain(`this site (http://localhost:${other}) may not embed the chat`);
    await expect(visitor.page.getByTestId("widget-launcher")).toHaveCount(0);
    await expect(visitor.page.getByTestId("widget-frame")).toHaveCount(0);

    // Framing the widget by hand does not work either: the browser refuses
    // (CSP frame-ancestors), so no chat runs and no socket opens.
    await visitor.page.evaluate((src) => {
      const f = document.createElement("iframe");
      f.src = src;
      f.id = "forced";
      document.body.appendChild(f);
    }, `${kefu.url}/widget?embed=1&origin=${encodeURIComponent(`http://localhost:${other}`)}`);
    await visitor.page.waitForTimeout(2_000);
    await expect(visitor.page.frameLocator("#forced").getByTestId("widget-panel")).toHaveCount(0);
    expect(sockets).toEqual([]);
  } finally {
    await stop();
  }
});
