// The /widget page (what customers' sites frame) runs on the visitor's own
// bundle: it never downloads the console's code or styles, its files are cached as
// immutable under hashed names, and the chat works on it end to end,
// history included (the bundle's own client for the widget's server calls).
import { test, expect, signIn, say, newPage, messages, hydrated } from "./fixtures";

test("the widget page loads only the visitor's bundle, chats, and reloads its history", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  const agent = await newPage(browser);
  await signIn(agent.page, kefu, "Ann");

  const visitor = await newPage(browser);
  const loaded: { path: string; cache: string | undefined }[] = [];
  visitor.page.on("response", (r) => {
    const url = new URL(r.url());
    if (url.pathname.startsWith("/pkg/")) loaded.push({ path: url.pathname, cache: r.headers()["cache-control"] });
  });
  await visitor.page.goto(kefu.url + "/widget");
  await hydrated(visitor.page);
  await expect(visitor.page.getByTestId("widget-launcher")).toHaveAttribute("data-online", "true");
  // Sorted by extension: the content hashes in the names sort in any order.
  const ext = (p: string) => p.slice(p.lastIndexOf("."));
  const paths = loaded.map((l) => l.path).sort((a, b) => ext(a).localeCompare(ext(b)));
  expect(paths).toEqual([
    // the widget's part of the stylesheet (scripts/widget-bundle.sh), not kefu.<hash>.css
    expect.stringMatching(/^\/pkg\/widget\.[\w-]+\.css$/),
    expect.stringMatching(/^\/pkg\/widget\.[\w-]+\.js$/),
    expect.stringMatching(/^\/pkg\/widget\.[\w-]+\.wasm$/),
  ]);
  for (const l of loaded) expect(l.cache, l.path).toBe("public, max-age=31536000, immutable");

  await visitor.page.getByTestId("widget-launcher").click();
  // Styled by that sheet: the panel's header in the default brand colour.
  await expect(visitor.page.locator(".widget-panel > header")).toHaveCSS("background-color", "rgb(37, 99, 235)");
  await expect(messages(visitor.page, "system")).toHaveText(["Ann will serve you"]);
  await say(visitor.page, "from the widget page");
  await expect(messages(agent.page, "visitor")).toHaveText(["from the widget page"]);
  await say(agent.page, "hello there");
  await expect(messages(visitor.page, "agent")).toHaveText(["hello there"]);

  // A returning visitor: the history comes back through /api/visitor_history.
  await visitor.page.reload();
  await hydrated(visitor.page);
  await visitor.page.getByTestId("widget-launcher").click();
  await expect(messages(visitor.page, "visitor")).toHaveText(["from the widget page"]);
  await expect(messages(visitor.page, "agent")).toHaveText(["hello there"]);
  expect(loaded.some((l) => /\/pkg\/kefu\.[\w-]+\.(js|wasm)$/.test(l.path)), "the console's bundle").toBe(false);
});
