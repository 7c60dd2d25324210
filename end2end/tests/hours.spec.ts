// Business hours: outside them the widget offers the leave-a-message form
// even while an agent is signed in, and says when the team is back, in the
// visitor's language and time zone; an admin may keep live chat open.
import { test, expect, signIn, newPage, openEmbedded, messages, say } from "./fixtures";
import type { Page } from "@playwright/test";

/** A window of every day that `now` is outside, and when it next opens (UTC). */
function closedNow(now: Date): { from: string; to: string; back: number } {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  // Before noon: open 22:00–23:00 today; after: 01:00–02:00 tomorrow.
  return now.getUTCHours() < 12
    ? { from: "22:00", to: "23:00", back: midnight + 22 * 3_600_000 }
    : { from: "01:00", to: "02:00", back: midnight + 25 * 3_600_000 };
}

/** How the browser writes `at` as a weekday and time (the same Intl as Chromium's). */
function when(at: number, locale: string, timeZone: string): string {
  return new Date(at).toLocaleString(locale, { weekday: "long", hour: "2-digit", minute: "2-digit", timeZone });
}

async function openHours(page: Page) {
  await page.getByTestId("settings-toggle").click();
  const form = page.getByTestId("hours-form");
  await expect(form).toBeVisible();
  return form;
}

test("outside business hours the widget turns to the offline form and says when the team is back", async ({ browser, kefu, host }) => {
  kefu.addAgent("Ann", { admin: true });
  const admin = await newPage(browser);
  await signIn(admin.page, kefu, "Ann");
  const form = await openHours(admin.page);

  // A zone the server does not know: refused, nothing saved.
  await form.locator('input[name="enabled"]').check();
  await form.locator('input[name="time_zone"]').fill("Mars/Olympus_Mons");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(admin.page.getByTestId("hours-outcome")).toHaveText(
    "The time zone must be a name such as Asia/Shanghai, Europe/London or UTC.",
  );
  // A backwards window: refused too.
  await form.locator('input[name="time_zone"]').fill("UTC");
  await form.locator('input[name="from_0"]').fill("18:00");
  await form.locator('input[name="to_0"]').fill("09:00");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(admin.page.getByTestId("hours-outcome")).toContainText("opening time before its closing time");

  // Live chat while hours are off (the refused saves changed nothing).
  const before = await newPage(browser, { locale: "en-US", timezoneId: "UTC" });
  const live = await openEmbedded(before.page, host.page());
  await expect(messages(live, "system")).toHaveText(["Ann will serve you"]);

  // Every day open only at a time that is not now: closed now.
  const { from, to, back } = closedNow(new Date());
  for (let day = 0; day < 7; day++) {
    await form.locator(`input[name="open_${day}"]`).check();
    await form.locator(`input[name="from_${day}"]`).fill(from);
    await form.locator(`input[name="to_${day}"]`).fill(to);
  }
  await form.getByRole("button", { name: "Save" }).click();
  await expect(admin.page.getByTestId("hours-outcome")).toHaveText("Business hours saved.");

  // A conversation already open goes on.
  await say(live, "Still there?");
  await expect(messages(admin.page, "visitor")).toHaveText(["Still there?"]);
  await expect(live.getByTestId("offline-form")).toHaveCount(0);

  // A new visitor, in English and in Chinese, each in their own words.
  const en = await newPage(browser, { locale: "en-US", timezoneId: "UTC" });
  const chat = await openEmbedded(en.page, host.page());
  const offline = chat.getByTestId("offline-form");
  await expect(offline).toContainText("We are closed right now.");
  await expect(chat.getByTestId("back-at")).toHaveAttribute("data-at", String(back));
  await expect(chat.getByTestId("back-at")).toHaveText(`We are back ${when(back, "en", "UTC")}.`);
  const zh = await newPage(browser, { locale: "zh-CN", timezoneId: "Asia/Shanghai" });
  const zhChat = await openEmbedded(zh.page, host.page());
  await expect(zhChat.getByTestId("offline-form")).toContainText("现在是非工作时间。");
  // Shanghai is UTC+8: the same moment, eight hours later on its clock.
  await expect(zhChat.getByTestId("back-at")).toHaveText(`我们将于${when(back, "zh-CN", "Asia/Shanghai")}恢复服务。`);

  // The open widget hears at once when live chat is kept open outside hours.
  await form.locator('input[name="keep_chat_open"]').check();
  await form.getByRole("button", { name: "Save" }).click();
  await expect(chat.getByTestId("offline-form")).toHaveCount(0);

  // Saved: the form shows the hours after a reload.
  await admin.page.reload();
  const again = await openHours(admin.page);
  await expect(again.locator('input[name="enabled"]')).toBeChecked();
  await expect(again.locator('input[name="from_3"]')).toHaveValue(from);
  await expect(again.locator('input[name="keep_chat_open"]')).toBeChecked();
});
