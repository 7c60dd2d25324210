// Security as a person meets it: pages hydrate under the strict
// Content-Security-Policy, hostile text stays text, sign-in throttling is
// explained, and a disabled agent is thrown out.
import type { Page, Response } from "@playwright/test";
import { test, expect, openWidget, signIn, say, newPage, messages, hydrated, PASSWORD } from "./fixtures";

/** Records CSP trouble on a page: console reports and securitypolicyviolation events. */
async function watchCsp(page: Page): Promise<() => Promise<string[]>> {
  const reports: string[] = [];
  page.on("console", (msg) => {
    if (msg.text().includes("Content Security Policy")) reports.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => {
    if (String(err).includes("Content Security Policy")) reports.push(`pageerror: ${err}`);
  });
  // Init scripts run through the DevTools protocol, so the CSP does not block this one.
  await page.addInitScript(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener("securitypolicyviolation", (e) => {
      w.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
  return async () => {
    const events = await page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []);
    return [...reports, ...events.map((e) => `event: ${e}`)];
  };
}

/** The page's response carries a nonce-based CSP (so the hydration below happened under it). */
function expectCsp(response: Response | null, ancestors: string): void {
  expect(response, "a navigation response").not.toBeNull();
  const csp = response!.headers()["content-security-policy"] ?? "";
  expect(csp).toContain("script-src 'nonce-");
  expect(csp).not.toContain("'unsafe-inline'");
  expect(csp).toContain(`frame-ancestors ${ancestors}`);
}

test("the console and the widget hydrate and chat under the CSP without a violation", async ({ browser, kefu }) => {
  kefu.addAgent("Ann", { admin: true });
  const agent = await newPage(browser);
  const agentCsp = await watchCsp(agent.page);
  expectCsp(await agent.page.goto(kefu.url + "/console"), "'none'");
  await hydrated(agent.page);
  await signIn(agent.page, kefu, "Ann");
  await agent.page.getByTestId("agents-toggle").click();
  await expect(agent.page.getByTestId("agent-row")).toHaveCount(1);

  const visitor = await newPage(browser);
  const visitorCsp = await watchCsp(visitor.page);
  expectCsp(await visitor.page.goto(kefu.url + "/"), "'none'");
  expectCsp(await visitor.page.goto(kefu.url + "/widget"), "'self'");
  await hydrated(visitor.page);
  await visitor.page.getByTestId("widget-launcher").click();
  await say(visitor.page, "hello under a strict policy");
  await expect(messages(agent.page, "visitor")).toHaveText(["hello under a strict policy"]);
  await say(agent.page, "answered under it too");
  await expect(messages(visitor.page, "agent")).toHaveText(["answered under it too"]);

  // The widget alone, as embedded in an iframe.
  const framed = await visitor.context.newPage();
  const framedCsp = await watchCsp(framed);
  expectCsp(await framed.goto(kefu.url + "/widget"), "'self'");
  await hydrated(framed);
  await framed.getByTestId("widget-launcher").click();
  await expect(messages(framed, "visitor")).toHaveText(["hello under a strict policy"]);

  for (const [who, report] of [["console", agentCsp], ["demo page", visitorCsp], ["widget", framedCsp]] as const) {
    expect(await report(), `CSP violations on the ${who}`).toEqual([]);
  }
});

test("hostile message text is shown as text: javascript: links, svg handlers, bidi overrides", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  const agent = await newPage(browser);
  await signIn(agent.page, kefu, "Ann");
  const visitor = await newPage(browser);
  let alerted = "";
  for (const p of [agent.page, visitor.page]) {
    p.on("dialog", async (d) => {
      alerted += d.message();
      await d.dismiss();
    });
  }
  await openWidget(visitor.page, kefu);
  const payloads = [
    "javascript:alert(1)",
    "[click me](javascript:alert(2))",
    "<svg onload=alert(3)>",
    "<svg><animate onbegin=alert(4) attributeName=x dur=1s>",
    '<iframe src="javascript:alert(5)"></iframe>',
    // A right-to-left override making "exe.txt" look like "txt.exe", and a stray one.
    "invoice\u202Etxt.exe",
    "\u202Eevil\u202C and back",
  ];
  for (const p of payloads) await say(visitor.page, p);
  await expect(messages(agent.page, "visitor")).toHaveText(payloads);
  await expect(messages(visitor.page, "visitor")).toHaveText(payloads);
  // Exactly the characters sent, nothing dropped or rewritten.
  expect(await messages(agent.page, "visitor").allTextContents()).toEqual(payloads);
  await say(agent.page, payloads[2]);
  await say(agent.page, payloads[5]);
  await expect(messages(visitor.page, "agent")).toHaveText([payloads[2], payloads[5]]);
  for (const p of [agent.page, visitor.page]) {
    const list = p.getByTestId("message-list");
    await expect(list.locator("a, svg, iframe, img, script, animate")).toHaveCount(0);
    // Each text is a single text node: no markup was parsed.
    const childElements = await list.locator(".text").evaluateAll((els) => els.reduce((n, el) => n + el.children.length, 0));
    expect(childElements).toBe(0);
  }
  await visitor.page.waitForTimeout(1_500);
  expect(alerted).toBe("");
});

test("markup injected into a page cannot run script: the CSP blocks inline handlers, javascript: URLs and srcdoc scripts", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  for (const path of ["/console", "/widget"]) {
    const { page } = await newPage(browser);
    const report = await watchCsp(page);
    await page.goto(kefu.url + path);
    await hydrated(page);
    // Stand-in for an injection bug: HTML with inline script put into the live page.
    await page.evaluate(() => {
      const d = document.createElement("div");
      // (A <script> created with DOM calls is allowed by 'strict-dynamic' by design;
      // injected markup cannot create one that runs.)
      d.innerHTML =
        '<img src="data:," onerror="window.__ran = 1"><svg onload="window.__ran = 2"></svg>' +
        '<iframe srcdoc="<script>parent.__ran = 3</script>"></iframe>';
      document.body.appendChild(d);
      const a = document.createElement("a");
      a.href = "javascript:window.__ran = 4";
      a.id = "injected-link";
      a.textContent = "x";
      document.body.appendChild(a);
    });
    await page.locator("#injected-link").click();
    await page.waitForTimeout(500);
    expect(await page.evaluate(() => (window as unknown as { __ran?: number }).__ran), path).toBeUndefined();
    expect((await report()).length, `${path}: the blocked attempts are reported as violations`).toBeGreaterThan(0);
  }
});

test("after 5 wrong passwords the sign-in form says to wait, even for the right one", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  const { page } = await newPage(browser);
  await page.goto(kefu.url + "/console");
  await hydrated(page);
  const form = page.getByTestId("login-form");
  const attempt = async (password: string) => {
    await form.locator('input[name="name"]').fill("Ann");
    await form.locator('input[name="password"]').fill(password);
    const answered = page.waitForResponse((r) => r.url().endsWith("/api/sign_in"));
    await form.locator('button[type="submit"]').click();
    await answered;
  };
  for (let i = 0; i < 5; i++) {
    await attempt(`wrong password ${i}`);
    await expect(page.getByTestId("form-error")).toHaveText(/wrong name or password/i);
  }
  await attempt(PASSWORD);
  await expect(page.getByTestId("form-error")).toHaveText(/Too many failed attempts\. Try again in \d+ seconds?\./);
  await expect(page.getByTestId("me")).toHaveCount(0);
});

test("an admin disables an agent: their open console is cut off and they cannot sign in", async ({ browser, kefu }) => {
  kefu.addAgent("Boss", { admin: true });
  kefu.addAgent("Bob");
  const bob = await newPage(browser);
  await signIn(bob.page, kefu, "Bob");
  await expect(bob.page.getByTestId("reconnecting")).toHaveCount(0);

  const boss = await newPage(browser);
  await signIn(boss.page, kefu, "Boss");
  await boss.page.getByTestId("agents-toggle").click();
  const row = boss.page.getByTestId("agent-row").and(boss.page.locator('[data-name="Bob"]'));
  await expect(row).toBeVisible();
  await expect(row).not.toHaveClass(/disabled/);
  const update = row.getByTestId("update-agent-form");
  await update.locator('input[name="disabled"]').check();
  await update.locator('button[type="submit"]').click();
  await expect(row).toHaveClass(/disabled/);

  // Bob's open console loses its socket at once (it cannot reconnect).
  await expect(bob.page.getByTestId("reconnecting").or(bob.page.getByTestId("login-form"))).toBeVisible();
  await bob.page.waitForTimeout(2_000);
  await expect(bob.page.getByTestId("reconnecting").or(bob.page.getByTestId("login-form"))).toBeVisible();

  // A fresh load shows the sign-in form, and Bob's password no longer works.
  await bob.page.goto(kefu.url + "/console");
  await hydrated(bob.page);
  const login = bob.page.getByTestId("login-form");
  await login.locator('input[name="name"]').fill("Bob");
  await login.locator('input[name="password"]').fill(PASSWORD);
  await login.locator('button[type="submit"]').click();
  await expect(bob.page.getByTestId("form-error")).toHaveText(/wrong name or password/i);
  await expect(bob.page.getByTestId("me")).toHaveCount(0);

  // The admin's own console is unaffected.
  await expect(boss.page.getByTestId("me")).toHaveText("Boss");
  await expect(boss.page.getByTestId("reconnecting")).toHaveCount(0);
});
