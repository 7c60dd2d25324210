// Admins set the widget's look and words, its pre-chat form and the sites
// that may embed it, in the console: applied on the widget's next open,
// without a restart; a wrong value is refused with a message and nothing is saved.
import { test, expect, signIn, say, newPage, messages, openEmbedded, serveHost, freePort, widgetFrame } from "./fixtures";
import type { Page } from "@playwright/test";

async function openSettings(page: Page) {
  await page.getByTestId("settings-toggle").click();
  const form = page.getByTestId("settings-form");
  await expect(form).toBeVisible();
  return form;
}

test("colour, greeting, position and the pre-chat form change the widget on its next open", async ({ browser, kefu, host }) => {
  kefu.addAgent("Ann", { admin: true });
  const admin = await newPage(browser);
  await signIn(admin.page, kefu, "Ann");
  const form = await openSettings(admin.page);

  // Wrong values: each says why, and nothing is saved.
  await form.locator('input[name="color"]').fill("blue");
  await form.locator('input[name="title"]').fill("Not saved");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(admin.page.getByTestId("settings-outcome")).toHaveText("The colour must be a hex colour such as #2563eb.");
  await form.locator('input[name="color"]').fill("#16a34a");
  await form.locator('textarea[name="allowed_origins"]').fill("shop.example");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(admin.page.getByTestId("settings-outcome")).toContainText("Each site must be scheme://host");
  await admin.page.reload();
  const fresh = await openSettings(admin.page);
  await expect(fresh.locator('input[name="color"]')).toHaveValue("#2563eb");
  await expect(fresh.locator('input[name="title"]')).toHaveValue("");

  // Good values: saved, and the widget uses them from its next open.
  await fresh.locator('input[name="color"]').fill("#16a34a");
  await fresh.locator('input[name="title"]').fill("Shop help");
  await fresh.locator('textarea[name="greeting"]').fill("Hi! Ask us anything about your order.");
  await fresh.locator('select[name="position"]').selectOption("left");
  await fresh.locator('select[name="prechat_name"]').selectOption("required");
  await fresh.locator('select[name="prechat_email"]').selectOption("optional");
  await fresh.getByRole("button", { name: "Save" }).click();
  await expect(admin.page.getByTestId("settings-outcome")).toHaveText("Settings saved. The widget uses them from its next open.");

  const visitor = await newPage(browser);
  await visitor.page.goto(host.page());
  const launcher = visitor.page.getByTestId("widget-launcher");
  await expect(launcher).toHaveCSS("background-color", "rgb(22, 163, 74)");
  expect((await launcher.boundingBox())!.x).toBeLessThan(100);
  const chat = await openEmbedded(visitor.page, host.page());
  await expect(chat.getByTestId("widget-title")).toHaveText("Shop help");
  await expect(chat.locator(".widget-panel > header")).toHaveCSS("background-color", "rgb(22, 163, 74)");
  await expect(chat.getByTestId("greeting")).toHaveText("Hi! Ask us anything about your order.");
  const prechat = chat.getByTestId("prechat-form");
  await expect(prechat).toBeVisible();
  await expect(chat.getByTestId("composer")).toHaveCount(0);
  await expect(prechat.locator('input[name="email"]')).not.toHaveAttribute("required", /.*/);
  // Required: the form is not sent without a name.
  await prechat.getByRole("button").click();
  await expect(prechat).toBeVisible();
  await expect(admin.page.getByTestId("conversation-tab")).toHaveCount(0);
  await prechat.locator('input[name="name"]').fill("Li Lei");
  await prechat.getByRole("button").click();
  await expect(messages(chat, "system")).toHaveText(["Ann will serve you"]);
  await say(chat, "Where is my parcel?");
  await expect(messages(admin.page, "visitor")).toHaveText(["Where is my parcel?"]);
  // The pre-chat form's name labels the visitor for the agent.
  await expect(admin.page.getByTestId("conversation-tab")).toContainText("Li Lei");
  // The greeting is the visitor's to see, never a stored message.
  await expect(messages(admin.page)).not.toContainText(["Hi! Ask us anything about your order."]);
});

test("a site the admin adds to the allowed list can embed the chat at once", async ({ browser, kefu }) => {
  kefu.addAgent("Ann", { admin: true });
  const port = await freePort();
  const stop = await serveHost(kefu.url, port);
  try {
    const visitor = await newPage(browser);
    const errors: string[] = [];
    visitor.page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    await visitor.page.goto(`http://localhost:${port}/`);
    await expect.poll(() => errors.join("\n")).toContain("may not embed the chat");
    await expect(visitor.page.getByTestId("widget-launcher")).toHaveCount(0);

    const admin = await newPage(browser);
    await signIn(admin.page, kefu, "Ann");
    const form = await openSettings(admin.page);
    await form.locator('textarea[name="allowed_origins"]').fill(`https://shop.example\nhttp://localhost:${port}/`);
    await form.getByRole("button", { name: "Save" }).click();
    await expect(admin.page.getByTestId("settings-outcome")).toContainText("Settings saved");

    const chat = await openEmbedded(visitor.page, `http://localhost:${port}/`);
    await say(chat, "now allowed");
    await expect(messages(admin.page, "visitor")).toHaveText(["now allowed"]);
    await expect(widgetFrame(visitor.page).getByTestId("not-allowed")).toHaveCount(0);
  } finally {
    await stop();
  }
});
