// Admins register a webhook in the console; a chat's events reach a real
// HTTP receiver, signed with the key the console shows, and the console
// lists each delivery with its status (a receiver that is down shows as
// pending with its error). A bad URL is refused with its message.
import { test, expect, signIn, say, newPage, messages, openWidget, freePort } from "./fixtures";
import * as http from "node:http";
import * as crypto from "node:crypto";

interface Hit { signature: string; body: string }

/** A real receiver on a free port: records every POST. */
async function receiver(): Promise<{ url: string; hits: Hit[]; close: () => Promise<void> }> {
  const hits: Hit[] = [];
  const port = await freePort();
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      hits.push({ signature: String(req.headers["x-kefu-signature"] ?? ""), body });
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${port}/hook`,
    hits,
    // kefu keeps its connection alive: close it too.
    close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
}

/** Checks X-Kefu-Signature as a receiver would. */
function verified(hit: Hit, secret: string): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(hit.signature);
  if (!m) return false;
  const mac = crypto.createHmac("sha256", secret).update(`${m[1]}.${hit.body}`).digest("hex");
  return crypto.timingSafeEqual(Buffer.from(mac), Buffer.from(m[2]));
}

test("an admin registers a webhook and sees a chat's deliveries", async ({ browser, kefu }) => {
  kefu.addAgent("Ann", { admin: true });
  const hook = await receiver();
  const deadPort = await freePort();
  try {
    const admin = await newPage(browser);
    await signIn(admin.page, kefu, "Ann");
    await admin.page.getByTestId("settings-toggle").click();
    const form = admin.page.getByTestId("webhooks-form");
    await expect(form).toBeVisible();

    // Refused: not http(s); nothing saved.
    await form.locator('input[name="url"]').fill("ftp://hooks.example/");
    await form.getByRole("button", { name: "Add webhook" }).click();
    await expect(admin.page.getByTestId("webhooks-outcome")).toContainText("starts with http:// or https://");
    await expect(admin.page.getByTestId("webhook")).toHaveCount(0);

    await form.locator('input[name="url"]').fill(hook.url);
    await form.getByRole("button", { name: "Add webhook" }).click();
    await expect(admin.page.getByTestId("webhooks-outcome")).toHaveText("Webhook added.");
    await expect(admin.page.getByTestId("webhook")).toHaveCount(1);
    // A second one whose receiver is down.
    await form.locator('input[name="url"]').fill(`http://127.0.0.1:${deadPort}/hook`);
    await form.getByRole("button", { name: "Add webhook" }).click();
    await expect(admin.page.getByTestId("webhook")).toHaveCount(2);
    const secret = (await admin.page.getByTestId("webhook-secret").first().textContent())!.trim();
    expect(secret).toMatch(/^[0-9a-f]{64}$/);

    const visitor = await newPage(browser);
    await openWidget(visitor.page, kefu);
    await say(visitor.page, "Hello hooks");
    await expect(messages(admin.page, "visitor")).toHaveText(["Hello hooks"]);

    const rows = admin.page.getByTestId("webhook-delivery");
    await expect(async () => {
      await admin.page.getByTestId("webhook-refresh").click();
      await expect(rows.and(admin.page.locator('[data-status="delivered"]'))).toHaveCount(2, { timeout: 1000 });
      await expect(rows.and(admin.page.locator('[data-status="pending"]')).filter({ hasText: "connect" })).not.toHaveCount(0, { timeout: 1000 });
    }).toPass({ timeout: 20_000 });
    await expect(rows.and(admin.page.locator('[data-status="delivered"]')).first()).toContainText("Delivered");

    const bodies = hook.hits.map((h) => JSON.parse(h.body));
    expect(bodies.map((b) => b.type)).toEqual(["conversation.created", "message.created"]);
    expect(bodies[1].data.body).toBe("Hello hooks");
    expect(hook.hits.every((h) => verified(h, secret))).toBe(true);
  } finally {
    await hook.close();
  }
});
