// The whole visitor <-> agent chat, as people use it.
import { test, expect, openWidget, signIn, say, newPage, messages, rows, hydrated, PASSWORD } from "./fixtures";

test("first start: setup form creates the admin, who adds an agent; wrong passwords get a clear error", async ({ browser, kefu }) => {
  const { page } = await newPage(browser);
  await page.goto(kefu.url + "/console");
  await hydrated(page);
  const setup = page.getByTestId("setup-form");
  await setup.locator('input[name="name"]').fill("Admin");
  await setup.locator('input[name="password"]').fill(PASSWORD);
  await setup.locator('input[name="setup_code"]').fill(kefu.setupCode());
  await setup.locator('button[type="submit"]').click();
  await expect(page.getByTestId("me")).toHaveText("Admin");

  await page.getByTestId("agents-toggle").click();
  const add = page.getByTestId("add-agent-form");
  await add.locator('input[name="name"]').fill("Bea");
  await add.locator('input[name="password"]').fill(PASSWORD);
  await add.locator('input[name="capacity"]').fill("3");
  await add.locator('button[type="submit"]').click();
  await expect(page.getByTestId("agent-row").filter({ hasText: "Bea" })).toBeVisible();

  // The setup form is gone for good once an account exists.
  const other = await newPage(browser);
  await other.page.goto(kefu.url + "/console");
  await hydrated(other.page);
  await expect(other.page.getByTestId("setup-form")).toHaveCount(0);
  const login = other.page.getByTestId("login-form");
  await login.locator('input[name="name"]').fill("Bea");
  await login.locator('input[name="password"]').fill("not the password");
  await login.locator('button[type="submit"]').click();
  await expect(other.page.getByTestId("form-error")).toHaveText(/wrong name or password/i);
  await signIn(other.page, kefu, "Bea");
});

test("visitor and agent chat live; own messages right, theirs left; agent closes", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  const agent = await newPage(browser);
  await signIn(agent.page, kefu, "Ann");

  const visitor = await newPage(browser);
  await expect(visitor.page.goto(kefu.url + "/widget")).resolves.toBeTruthy();
  await expect(visitor.page.getByTestId("widget-launcher")).toHaveAttribute("data-online", "true");
  await hydrated(visitor.page);
  await visitor.page.getByTestId("widget-launcher").click();
  await expect(messages(visitor.page, "system")).toHaveText(["Ann will serve you"]);
  await expect(visitor.page.getByTestId("widget-status")).toHaveText("Ann is serving you");

  const tab = agent.page.getByTestId("conversation-tab");
  await expect(tab).toHaveCount(1);

  // Enter sends; Shift+Enter is a new line.
  const composer = visitor.page.getByTestId("composer");
  await composer.fill("Hello, I need help");
  await composer.press("Shift+Enter");
  await composer.pressSequentially("with my order");
  await composer.press("Enter");
  await expect(messages(visitor.page, "visitor")).toHaveText(["Hello, I need help\nwith my order"]);
  await expect(rows(visitor.page, "visitor").first()).toHaveClass(/mine/);
  await expect(rows(visitor.page, "visitor").first()).toHaveAttribute("data-state", "sent");
  await expect(messages(agent.page, "visitor")).toHaveText(["Hello, I need help\nwith my order"]);
  await expect(rows(agent.page, "visitor").first()).toHaveClass(/theirs/);

  await say(agent.page, "Sure, what is the order number?");
  await expect(messages(visitor.page, "agent")).toHaveText(["Sure, what is the order number?"]);
  await expect(rows(visitor.page, "agent").first()).toHaveClass(/theirs/);
  await expect(rows(agent.page, "agent").first()).toHaveClass(/mine/);

  // Blank messages are not sent; over-long ones are refused with a message and kept.
  await composer.fill("   ");
  await composer.press("Enter");
  const long = "x".repeat(4001);
  await composer.fill(long);
  await composer.press("Enter");
  await expect(visitor.page.getByTestId("composer-error")).toContainText("4,000");
  await expect(composer).toHaveValue(long);
  await expect(messages(visitor.page, "visitor")).toHaveCount(1);
  await expect(messages(agent.page, "visitor")).toHaveCount(1);

  // The agent closes: capacity frees, the visitor is told.
  await agent.page.getByTestId("close-conversation").click();
  await expect(messages(visitor.page, "system").last()).toHaveText("Ann closed the conversation");
  await expect(visitor.page.getByTestId("widget-status")).toContainText("closed");
  await expect(tab).toHaveCount(0);
});

test("visitor left / is back, and agent offline / back notices", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  const agent = await newPage(browser);
  await signIn(agent.page, kefu, "Ann");
  const visitor = await newPage(browser);
  await openWidget(visitor.page, kefu);
  await say(visitor.page, "hi there");
  await expect(messages(agent.page, "visitor")).toHaveText(["hi there"]);

  await visitor.page.close();
  await expect(messages(agent.page, "system").last()).toHaveText("Visitor left");
  await expect(agent.page.getByTestId("visitor-presence")).toHaveText("left");

  const back = await visitor.context.newPage();
  await openWidget(back, kefu);
  await expect(messages(agent.page, "system").last()).toHaveText("Visitor is back");
  await expect(messages(back, "visitor")).toHaveText(["hi there"]);

  await agent.page.close();
  await expect(messages(back, "system").last()).toHaveText("The agent went offline");
  const again = await agent.context.newPage();
  await again.goto(kefu.url + "/console");
  await hydrated(again);
  await expect(messages(back, "system").last()).toHaveText("The agent is back");
});

test("message text is always shown as text, never as HTML", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  const agent = await newPage(browser);
  await signIn(agent.page, kefu, "Ann");
  const visitor = await newPage(browser);
  let alerted = false;
  for (const p of [agent.page, visitor.page]) p.on("dialog", async (d) => { alerted = true; await d.dismiss(); });
  await openWidget(visitor.page, kefu);
  const payloads = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(2)</script>",
    '<a href="javascript:alert(3)">click</a>',
  ];
  for (const p of payloads) await say(visitor.page, p);
  await expect(messages(agent.page, "visitor")).toHaveText(payloads);
  await expect(messages(visitor.page, "visitor")).toHaveText(payloads);
  await say(agent.page, payloads[0]);
  await expect(messages(visitor.page, "agent")).toHaveText([payloads[0]]);
  for (const p of [agent.page, visitor.page]) {
    await expect(p.getByTestId("message-list").locator("img, script, a")).toHaveCount(0);
  }
  expect(alerted).toBe(false);
});
