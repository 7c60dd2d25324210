// The widget's weight: a page with the widget closed loads the server-rendered
// launcher only; the chat's script and wasm load when the visitor opens it.
import { test, expect, signIn, say, newPage, messages, hydrated } from "./fixtures";
import type { Page } from "@playwright/test";

/** Records the kefu scripts and wasm the page requests. */
function chatRequests(page: Page): string[] {
  const seen: string[] = [];
  page.on("request", (r) => {
    const url = new URL(r.url());
    if (url.pathname.startsWith("/pkg/") && /\.(js|wasm)$/.test(url.pathname)) seen.push(url.pathname);
  });
  return seen;
}

test("a closed widget loads no chat code; opening it loads the chat and starts a conversation", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  const agent = await newPage(browser);
  await signIn(agent.page, kefu, "Ann");

  const visitor = await newPage(browser);
  const requested = chatRequests(visitor.page);
  await visitor.page.goto(kefu.url + "/", { waitUntil: "load" });
  const launcher = visitor.page.getByTestId("widget-launcher");
  // Server-rendered: the launcher already says an agent is online.
  await expect(launcher).toHaveAttribute("data-online", "true");
  await visitor.page.waitForTimeout(1_500);
  expect(requested, "chat code loaded before the widget was opened").toEqual([]);
  await expect(visitor.page.locator('[data-hydrated="true"]')).toHaveCount(0);
  await expect(agent.page.getByTestId("conversation-tab")).toHaveCount(0);

  await launcher.click();
  await expect(visitor.page.getByTestId("widget-panel")).toBeVisible();
  // The full bundle, by the names the build hashed (the server puts them in the launcher).
  expect(requested).toEqual(
    expect.arrayContaining([expect.stringMatching(/^\/pkg\/kefu\.[\w-]+\.js$/), expect.stringMatching(/^\/pkg\/kefu\.[\w-]+\.wasm$/)]),
  );
  await expect(messages(visitor.page, "system")).toHaveText(["Ann will serve you"]);
  await say(visitor.page, "opened from the launcher");
  await expect(messages(agent.page, "visitor")).toHaveText(["opened from the launcher"]);

  // The launcher still toggles the panel once the chat runs.
  await launcher.click();
  await expect(visitor.page.getByTestId("widget-panel")).toHaveCount(0);
  await launcher.click();
  await expect(visitor.page.getByTestId("widget-panel")).toBeVisible();
});

test("a returning visitor's chat loads at once, so a reply raises the badge on the closed widget", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  const agent = await newPage(browser);
  await signIn(agent.page, kefu, "Ann");
  const visitor = await newPage(browser);
  await visitor.page.goto(kefu.url + "/");
  await visitor.page.getByTestId("widget-launcher").click();
  await say(visitor.page, "first visit");
  await expect(messages(agent.page, "visitor")).toHaveText(["first visit"]);

  // The next page of the same site: nothing clicked, the chat loads by itself.
  const next = await visitor.context.newPage();
  const requested = chatRequests(next);
  await next.goto(kefu.url + "/");
  await hydrated(next);
  expect(requested).toContainEqual(expect.stringMatching(/^\/pkg\/kefu\.[\w-]+\.wasm$/));
  await expect(next.getByTestId("widget-panel")).toHaveCount(0);
  await say(agent.page, "a reply while the panel is closed");
  await expect(next.getByTestId("widget-unread")).toHaveText("1");
  await next.getByTestId("widget-launcher").click();
  await expect(messages(next, "agent")).toHaveText(["a reply while the panel is closed"]);
});

test("opening the widget once opens exactly one socket: the agent never reads that the visitor left", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  const agent = await newPage(browser);
  await signIn(agent.page, kefu, "Ann");
  const visitor = await newPage(browser);
  const sockets: string[] = [];
  visitor.page.on("websocket", (ws) => sockets.push(ws.url()));
  await visitor.page.goto(kefu.url + "/");
  await visitor.page.getByTestId("widget-launcher").click();
  await expect(messages(visitor.page, "system")).toHaveText(["Ann will serve you"]);
  await say(visitor.page, "my first words");
  await expect(messages(agent.page, "visitor")).toHaveText(["my first words"]);
  // Long enough for a second connection to show up, had one been opened.
  await visitor.page.waitForTimeout(1_500);
  expect(sockets.filter((u) => u.endsWith("/ws/visitor"))).toHaveLength(1);
  await expect(agent.page.getByText("Visitor left")).toHaveCount(0);
  await expect(agent.page.getByText("Visitor is back")).toHaveCount(0);
});
