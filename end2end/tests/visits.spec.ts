// Who an agent is talking to, and being told when they look elsewhere
// (issue 13, items 6 and 7): the visitor panel shows the host page (live as
// the visitor moves around a single-page site), the pre-chat email and
// earlier conversations; the console chimes and shows a browser notification
// while its tab is hidden; the widget chimes for a reply while its page is
// hidden, and can be muted.
import { test, expect, signIn, say, newPage, messages, openEmbedded, openWidget, hydrated } from "./fixtures";
import type { Page } from "@playwright/test";

/** Records Web Audio use: each oscillator started is one note of a chime. */
const RECORD_SOUND = () => {
  (window as any).__notes = 0;
  const Real = window.AudioContext;
  if (!Real) return;
  (window as any).AudioContext = class extends Real {
    createOscillator() {
      (window as any).__notes++;
      return super.createOscillator();
    }
  };
};

/**
 * Records notifications; the permission is "default" until asked, then
 * granted (kept across reloads, as the browser keeps it; the count of
 * requests too).
 */
const RECORD_NOTIFICATIONS = () => {
  const w = window as any;
  w.__shown = [];
  const asked = () => Number(sessionStorage.getItem("asked") ?? "0");
  Object.defineProperty(w, "__asked", { get: asked });
  let permission = sessionStorage.getItem("permission") ?? "default";
  class Recorded {
    title: string;
    body: string;
    onclick: null | (() => void) = null;
    constructor(title: string, options?: { body?: string }) {
      this.title = title;
      this.body = options?.body ?? "";
      w.__shown.push(this);
    }
    close() {}
    static get permission() {
      return permission;
    }
    static requestPermission() {
      sessionStorage.setItem("asked", String(asked() + 1));
      permission = "granted";
      sessionStorage.setItem("permission", permission);
      return Promise.resolve(permission);
    }
  }
  w.Notification = Recorded;
};

/** Makes the page look hidden (another tab in front) or visible again. */
async function setHidden(page: Page, hidden: boolean) {
  await page.evaluate((hidden) => {
    Object.defineProperty(document, "hidden", { value: hidden, configurable: true });
    Object.defineProperty(document, "visibilityState", { value: hidden ? "hidden" : "visible", configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
  }, hidden);
}

const shown = (page: Page) => page.evaluate(() => (window as any).__shown.map((n: any) => `${n.title} | ${n.body}`));
const notes = (page: Page) => page.evaluate(() => (window as any).__notes as number);

test("the visitor panel shows the host page live, the pre-chat email and earlier conversations", async ({ browser, kefu, host }) => {
  kefu.addAgent("Ann", { admin: true });
  const agent = await newPage(browser);
  await signIn(agent.page, kefu, "Ann");
  await agent.page.getByTestId("settings-toggle").click();
  const form = agent.page.getByTestId("settings-form");
  await form.locator('select[name="prechat_email"]').selectOption("required");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(agent.page.getByTestId("settings-outcome")).toContainText("Settings saved");
  await agent.page.getByTestId("settings-toggle").click();

  const visitor = await newPage(browser, { locale: "en-GB" });
  const tea = host.page({ path: "/products/tea" });
  const chat = await openEmbedded(visitor.page, tea);
  const prechat = chat.getByTestId("prechat-form");
  await prechat.locator('input[name="email"]').fill("li@example.com");
  await prechat.getByRole("button").click();
  await say(chat, "Is this tea organic?");
  await expect(messages(agent.page, "visitor")).toHaveText(["Is this tea organic?"]);

  const info = agent.page.getByTestId("visitor-info");
  await expect(info.locator('[data-field="page_url"]')).toContainText(tea);
  await expect(info.locator('[data-field="page_url"]')).toContainText("Shop");
  await expect(info.locator('[data-field="email"]')).toContainText("li@example.com");
  await expect(info.locator('[data-field="language"]')).toContainText("en-GB");
  await expect(info.locator('[data-field="local_time"]')).toHaveText(/\d\d:\d\d/);
  await expect(info.locator('[data-field="browser"] dd')).not.toHaveText("—");
  await expect(info.locator('[data-field="first_seen"] dd')).not.toHaveText("—");

  // A single-page site moves on: the panel follows without a reload.
  await visitor.page.evaluate(() => {
    document.title = "Checkout";
    history.pushState({}, "", "/checkout?step=2");
  });
  await expect(info.locator('[data-field="page_url"]')).toContainText(`${host.origin}/checkout?step=2`);
  await expect(info.locator('[data-field="page_url"]')).toContainText("Checkout");
  await visitor.page.goBack();
  await expect(info.locator('[data-field="page_url"]')).toContainText(tea);

  // Closed, then back with a new question: the first chat is listed and opens read-only.
  await agent.page.getByTestId("close-conversation").click();
  await expect(messages(chat, "system").last()).toHaveText("Ann closed the conversation");
  await say(chat, "One more thing");
  await expect(messages(agent.page, "visitor")).toHaveText(["One more thing"]);
  const earlier = info.getByTestId("earlier-conversation");
  await expect(earlier).toHaveCount(1);
  await earlier.click();
  await expect(info.getByTestId("earlier-history").getByTestId("earlier-message")).toContainText(["Is this tea organic?"]);
  await expect(agent.page.getByTestId("composer")).toBeVisible();
  await info.getByTestId("earlier-back").click();
  await expect(info.getByTestId("earlier-conversation")).toHaveCount(1);
});

test("a hidden console chimes and notifies; the notification brings its conversation to the front", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  const agent = await newPage(browser);
  await agent.page.addInitScript(RECORD_NOTIFICATIONS);
  await agent.page.addInitScript(RECORD_SOUND);
  await signIn(agent.page, kefu, "Ann");

  // Off until the agent turns it on: the permission is asked then, once.
  const toggle = agent.page.getByTestId("notify-toggle");
  await expect(toggle).not.toBeChecked();
  const first = await newPage(browser);
  await openWidget(first.page, kefu);
  await say(first.page, "first visitor here");
  await expect(messages(agent.page, "visitor")).toHaveText(["first visitor here"]);
  expect(await shown(agent.page)).toEqual([]);
  expect(await notes(agent.page)).toBe(0);

  await toggle.check();
  await expect.poll(() => agent.page.evaluate(() => (window as any).__asked)).toBe(1);
  // Stored for the agent: still on after a reload (and not asked again).
  await agent.page.reload();
  await hydrated(agent.page);
  await expect(agent.page.getByTestId("notify-toggle")).toBeChecked();
  await expect(agent.page.getByTestId("conversation-tab")).toHaveCount(1);
  expect(await agent.page.evaluate(() => (window as any).__asked)).toBe(1);
  expect(await shown(agent.page)).toEqual([]);

  // In front and visible: nothing to tell.
  await say(first.page, "still here");
  await expect(messages(agent.page, "visitor")).toHaveText(["first visitor here", "still here"]);
  expect(await shown(agent.page)).toEqual([]);

  // The tab hidden, a second visitor arrives and writes.
  await setHidden(agent.page, true);
  const second = await newPage(browser);
  await openWidget(second.page, kefu);
  await say(second.page, "do you ship to Lyon?");
  await expect(agent.page.getByTestId("conversation-tab")).toHaveCount(2);
  await expect.poll(() => shown(agent.page)).toEqual([
    expect.stringMatching(/^New chat: Visitor \d+ \| $/),
    expect.stringMatching(/^Visitor \d+ wrote \| do you ship to Lyon\?$/),
  ]);
  expect(await notes(agent.page)).toBeGreaterThan(0);

  // A message in the conversation not in front notifies even while visible.
  await setHidden(agent.page, false);
  await say(first.page, "hello again");
  await expect.poll(async () => (await shown(agent.page)).length).toBe(2);
  const tabs = agent.page.getByTestId("conversation-tab");
  await tabs.nth(1).click();
  await say(first.page, "are you there?");
  await expect.poll(async () => (await shown(agent.page)).length).toBe(3);

  // Clicking the notification selects its conversation.
  await agent.page.evaluate(() => (window as any).__shown.at(-1).onclick());
  await expect(tabs.nth(0)).toHaveClass(/active/);
  await expect(messages(agent.page, "visitor").last()).toHaveText("are you there?");
});

test("the widget chimes for a reply while its page is hidden, until muted", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  const agent = await newPage(browser);
  await signIn(agent.page, kefu, "Ann");
  const visitor = await newPage(browser);
  await visitor.page.addInitScript(RECORD_SOUND);
  await openWidget(visitor.page, kefu);
  await say(visitor.page, "hello");
  await expect(messages(agent.page, "visitor")).toHaveText(["hello"]);

  await say(agent.page, "visible reply");
  await expect(messages(visitor.page, "agent")).toHaveText(["visible reply"]);
  expect(await notes(visitor.page)).toBe(0);

  await setHidden(visitor.page, true);
  await say(agent.page, "hidden reply");
  await expect(messages(visitor.page, "agent")).toHaveText(["visible reply", "hidden reply"]);
  await expect.poll(() => notes(visitor.page)).toBeGreaterThan(0);
  const before = await notes(visitor.page);

  await setHidden(visitor.page, false);
  const mute = visitor.page.getByTestId("sound-toggle");
  await expect(mute).toHaveAttribute("aria-pressed", "false");
  await mute.click();
  await expect(mute).toHaveAttribute("aria-pressed", "true");
  await setHidden(visitor.page, true);
  await say(agent.page, "muted reply");
  await expect(messages(visitor.page, "agent").last()).toHaveText("muted reply");
  expect(await notes(visitor.page)).toBe(before);

  // Remembered for the visitor.
  await visitor.page.reload();
  await hydrated(visitor.page);
  await visitor.page.getByTestId("widget-launcher").click();
  await expect(visitor.page.getByTestId("sound-toggle")).toHaveAttribute("aria-pressed", "true");
});
