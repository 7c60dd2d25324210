// A site's signed-in user, vouched for by its backend (HMAC-SHA256 with the
// secret admins see in the console), finds one conversation and its whole
// history in any browser; expired, tampered or rotated-out tokens join
// nothing; unsigned details only label the visitor.
import * as crypto from "node:crypto";
import { test, expect, signIn, say, newPage, messages, openEmbedded } from "./fixtures";
import type { Page } from "@playwright/test";

/** What a site's backend does (docs/EMBED.md): payload.hex(hmac(secret, payload)). */
function sign(secret: string, claims: Record<string, unknown>): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
  return payload + "." + crypto.createHmac("sha256", secret).update(payload).digest("hex");
}

const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

async function secretOf(admin: Page): Promise<string> {
  await admin.getByTestId("settings-toggle").click();
  const secret = admin.getByTestId("identity-secret");
  await expect(secret).toHaveText(/^[0-9a-f]{64}$/);
  return (await secret.textContent())!.trim();
}

test("one signed user in two browsers sees one conversation and its history; a bad signature joins nothing", async ({ browser, kefu, host }) => {
  kefu.addAgent("Ann", { admin: true });
  const admin = await newPage(browser);
  await signIn(admin.page, kefu, "Ann");
  const secret = await secretOf(admin.page);
  const token = sign(secret, { user_id: "u-42", name: "Li Lei", email: "li@example.com", exp: inAnHour() });

  const laptop = await newPage(browser);
  const chat = await openEmbedded(laptop.page, host.page({ identify: { token } }));
  await say(chat, "asked on my laptop");
  await expect(messages(admin.page, "visitor")).toHaveText(["asked on my laptop"]);
  // The agent sees who it is, verified.
  await expect(admin.page.getByTestId("conversation-tab")).toContainText("Li Lei");
  await say(admin.page, "answered to Li Lei");
  await expect(messages(chat, "agent")).toHaveText(["answered to Li Lei"]);

  // Another browser, same user: the same conversation, with its history.
  const phone = await newPage(browser);
  const again = await openEmbedded(phone.page, host.page({ identify: { token: sign(secret, { user_id: "u-42", name: "Li Lei", exp: inAnHour() }) } }));
  await expect(messages(again, "visitor")).toHaveText(["asked on my laptop"]);
  await expect(messages(again, "agent")).toHaveText(["answered to Li Lei"]);
  await say(again, "and now from my phone");
  await expect(messages(admin.page, "visitor")).toHaveText(["asked on my laptop", "and now from my phone"]);
  await expect(admin.page.getByTestId("conversation-tab")).toHaveCount(1);

  // Expired, tampered, or unsigned with the same user id: a guest, nothing joined.
  const expired = sign(secret, { user_id: "u-42", exp: Math.floor(Date.now() / 1000) - 10 });
  const [payload, sig] = token.split(".");
  const tampered = Buffer.from(JSON.stringify({ user_id: "u-42", exp: inAnHour() + 60 })).toString("base64url") + "." + sig;
  for (const bad of [expired, tampered, payload + "." + "0".repeat(64)]) {
    const stranger = await newPage(browser);
    const guest = await openEmbedded(stranger.page, host.page({ identify: { token: bad } }));
    await expect(guest.getByRole("alert")).toContainText("as a guest");
    await expect(messages(guest, "visitor")).toHaveCount(0);
    await expect(messages(guest, "agent")).toHaveCount(0);
  }
  // Each guest got a conversation of their own, none of them the user's.
  const tabs = admin.page.getByTestId("conversation-tab");
  await expect(tabs).toHaveCount(4);
  const unsigned = await newPage(browser);
  const labelled = await openEmbedded(unsigned.page, host.page({ identify: { name: "Li Lei", user_id: "u-42" } }));
  await expect(messages(labelled, "visitor")).toHaveCount(0);
  await say(labelled, "I only said my name");
  await expect(tabs).toHaveCount(5);
  await expect(tabs.filter({ hasText: "Li Lei" })).toHaveCount(2);
});

test("rotating the secret refuses identities signed with the old one", async ({ browser, kefu, host }) => {
  kefu.addAgent("Ann", { admin: true });
  const admin = await newPage(browser);
  await signIn(admin.page, kefu, "Ann");
  const old = await secretOf(admin.page);
  await admin.page.getByTestId("rotate-secret").click();
  await expect(admin.page.getByTestId("identity-secret")).not.toHaveText(old);
  const fresh = (await admin.page.getByTestId("identity-secret").textContent())!.trim();

  const visitor = await newPage(browser);
  const chat = await openEmbedded(visitor.page, host.page({ identify: { token: sign(old, { user_id: "u-7", exp: inAnHour() }) } }));
  await expect(chat.getByRole("alert")).toContainText("as a guest");

  const other = await newPage(browser);
  const ok = await openEmbedded(other.page, host.page({ identify: { token: sign(fresh, { user_id: "u-7", name: "Han Meimei", exp: inAnHour() }) } }));
  await expect(ok.getByRole("alert")).toHaveCount(0);
  await say(ok, "verified with the new secret");
  await expect(admin.page.getByTestId("conversation-tab").filter({ hasText: "Han Meimei" })).toHaveCount(1);
});
