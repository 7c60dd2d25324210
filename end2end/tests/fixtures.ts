// Test fixtures: every test gets its own kefu server (the real release
// binary) on a free port with a fresh SQLite file, and helpers that drive
// the widget and the console the way a person would.
import { test as base, expect, Page, Browser, BrowserContext, FrameLocator } from "@playwright/test";
import * as http from "node:http";
import { spawn, execFileSync, ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");
const BIN = process.env.KEFU_BIN ?? path.join(ROOT, "target", "release", "kefu");

export const PASSWORD = "correct horse battery";

export interface Kefu {
  url: string;
  db: string;
  /** Adds an agent through the command line (`kefu agent add`). */
  addAgent(name: string, opts?: { capacity?: number; admin?: boolean }): void;
  /** The one-time setup code kefu printed in its log at start (no account existed). */
  setupCode(): string;
}

/** A free TCP port on this machine. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitUp(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`kefu exited with ${child.exitCode}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`kefu did not come up at ${url}`);
}

/**
 * A customer's website on another origin (`http://localhost:PORT`, while
 * kefu is at `http://127.0.0.1:PORT`): every path serves a page with the
 * embed snippet. `page()` builds its address; the snippet's `data-lang`
 * and a `kefu('identify', ...)` call before it come from the options.
 */
export interface HostSite {
  origin: string;
  page(opts?: { lang?: string; identify?: Record<string, string>; path?: string }): string;
}

/** The host page's HTML, hostile CSS included (it must not reach the widget). */
function hostHtml(kefuUrl: string, query: URLSearchParams): string {
  const lang = query.get("lang");
  const identify = query.get("identify");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<style>button { width: 10px !important; height: 10px !important; background: red !important; } iframe { border: 9px solid red !important; display: block !important; }</style>
</head><body><h1 data-testid="shop-title">A shop</h1>
<script>window.kefu = window.kefu || function () { (kefu.q = kefu.q || []).push(arguments); };
window.seen = { unread: [], message: [] };
kefu("on", "unread", function (n) { seen.unread.push(n); });
kefu("on", "message", function (m) { seen.message.push(m.text); });
${identify ? `kefu("identify", ${identify});` : ""}</script>
<script src="${kefuUrl}/embed.js" async${lang ? ` data-lang="${lang}"` : ""}></script>
</body></html>`;
}

/** Serves host pages on `port` until the returned function is called. */
export function serveHost(kefuUrl: string, port: number): Promise<() => Promise<void>> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(hostHtml(kefuUrl, url.searchParams));
  });
  return new Promise((resolve) =>
    // Every address: the browser may reach "localhost" over IPv6 or IPv4.
    server.listen(port, () =>
      resolve(() => new Promise<void>((done) => { server.closeAllConnections(); server.close(() => done()); })),
    ),
  );
}

export const test = base.extend<{
  kefu: Kefu;
  graceSecs: number;
  serverEnv: Record<string, string>;
  hostPort: number;
  host: HostSite;
}>({
  graceSecs: [30, { option: true }],
  /** Extra environment for the server (its flags' KEFU_* variables). */
  serverEnv: [{}, { option: true }],
  /** The port of the test's host site, allowed by `--allow-origin`. */
  hostPort: async ({}, use) => {
    await use(await freePort());
  },
  host: async ({ kefu, hostPort }, use) => {
    const stop = await serveHost(kefu.url, hostPort);
    const origin = `http://localhost:${hostPort}`;
    await use({
      origin,
      page(opts = {}) {
        const q = new URLSearchParams();
        if (opts.lang) q.set("lang", opts.lang);
        if (opts.identify) q.set("identify", JSON.stringify(opts.identify));
        return `${origin}${opts.path ?? "/"}?${q}`;
      },
    });
    await stop();
  },
  kefu: async ({ graceSecs, serverEnv, hostPort }, use, testInfo) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kefu-e2e-"));
    const db = path.join(dir, "kefu.db");
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const log = fs.openSync(path.join(dir, "server.log"), "w");
    const env = {
      ...process.env,
      LEPTOS_SITE_ROOT: path.join(ROOT, "target", "site"),
      RUST_LOG: "info",
      KEFU_ALLOW_ORIGINS: `http://localhost:${hostPort}`,
      ...serverEnv,
    };
    const child = spawn(
      BIN,
      ["--db", db, "serve", "--addr", `127.0.0.1:${port}`, "--grace-secs", String(graceSecs)],
      { env, stdio: ["ignore", log, log] },
    );
    try {
      await waitUp(url, child);
      await use({
        url,
        db,
        addAgent(name, opts = {}) {
          const args = ["--db", db, "agent", "add", "--name", name, "--password", PASSWORD];
          args.push("--capacity", String(opts.capacity ?? 5));
          if (opts.admin) args.push("--admin");
          execFileSync(BIN, args, { env, stdio: "pipe" });
        },
        setupCode() {
          const text = fs.readFileSync(path.join(dir, "server.log"), "utf8");
          const found = /setup code ([0-9a-f]{4}(?:-[0-9a-f]{4}){3})/.exec(text);
          if (!found) throw new Error("no setup code in the server log");
          return found[1];
        },
      });
    } finally {
      // Pages of this test must not live on into the next one (reconnecting,
      // pinging, holding memory in the shared browser).
      await Promise.all([...openContexts].map((c) => c.close().catch(() => {})));
      openContexts.clear();
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }
      if (testInfo.status !== testInfo.expectedStatus) {
        await testInfo.attach("server.log", { path: path.join(dir, "server.log") });
      }
      fs.closeSync(log);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
});

export { expect };

/** Waits until the page's wasm has hydrated it. */
export async function hydrated(page: Page): Promise<void> {
  await expect(page.locator('[data-hydrated="true"]').first()).toBeAttached({ timeout: 20_000 });
}

/** A visitor on kefu's own chat page (`/widget`) with the panel open. */
export async function openWidget(page: Page, kefu: Kefu): Promise<void> {
  await page.goto(kefu.url + "/widget");
  await hydrated(page);
  await page.getByTestId("widget-launcher").click();
  await expect(page.getByTestId("widget-panel")).toBeVisible();
}

/** The chat inside the host page's iframe. */
export function widgetFrame(page: Page): FrameLocator {
  return page.frameLocator('[data-testid="widget-frame"]');
}

/**
 * A visitor on a host page of another site with the chat open: the
 * launcher (drawn by embed.js) clicked, the panel shown in the iframe.
 */
export async function openEmbedded(page: Page, url: string): Promise<FrameLocator> {
  await page.goto(url);
  await page.getByTestId("widget-launcher").click();
  const frame = widgetFrame(page);
  await expect(frame.getByTestId("widget-panel")).toBeVisible();
  await expect(frame.locator('[data-hydrated="true"]')).toBeAttached({ timeout: 20_000 });
  return frame;
}

/** An agent signed in at /console. */
export async function signIn(page: Page, kefu: Kefu, name: string): Promise<void> {
  await page.goto(kefu.url + "/console");
  await hydrated(page);
  const form = page.getByTestId("login-form");
  await form.locator('input[name="name"]').fill(name);
  await form.locator('input[name="password"]').fill(PASSWORD);
  await form.locator('button[type="submit"]').click();
  await expect(page.getByTestId("me")).toHaveText(name);
}

/** A page, or the chat's iframe in a host page. */
export type Scope = Page | FrameLocator;

/** Types into the composer and presses Enter. */
export async function say(page: Scope, text: string): Promise<void> {
  const composer = page.getByTestId("composer");
  await composer.fill(text);
  await composer.press("Enter");
}

/** Contexts opened by `newPage` in the running test; closed when it ends. */
const openContexts = new Set<BrowserContext>();

/** A page in a fresh browser context (its own cookies and localStorage). */
export async function newPage(
  browser: Browser,
  opts: { locale?: string; timezoneId?: string } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext(opts);
  openContexts.add(context);
  const page = await context.newPage();
  return { context, page };
}

type Author = "visitor" | "agent" | "system";

/** Message rows in the page's message list (for classes and data attributes). */
export function rows(page: Scope, author?: Author) {
  const all = page.getByTestId("message-list").getByTestId("message");
  return author ? all.and(page.locator(`[data-author="${author}"]`)) : all;
}

/** The texts of the page's messages (without author names or delivery marks). */
export function messages(page: Scope, author?: Author) {
  return rows(page, author).locator(".text");
}
