// Test fixtures: every test gets its own kefu server (the real release
// binary) on a free port with a fresh SQLite file, and helpers that drive
// the widget and the console the way a person would.
import { test as base, expect, Page, Browser, BrowserContext } from "@playwright/test";
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
}

function freePort(): Promise<number> {
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

export const test = base.extend<{ kefu: Kefu; graceSecs: number; serverEnv: Record<string, string> }>({
  graceSecs: [30, { option: true }],
  /** Extra environment for the server (its flags' KEFU_* variables). */
  serverEnv: [{}, { option: true }],
  kefu: async ({ graceSecs, serverEnv }, use, testInfo) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kefu-e2e-"));
    const db = path.join(dir, "kefu.db");
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const log = fs.openSync(path.join(dir, "server.log"), "w");
    const env = { ...process.env, LEPTOS_SITE_ROOT: path.join(ROOT, "target", "site"), RUST_LOG: "info", ...serverEnv };
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

/**
 * A visitor on the demo page with the chat panel open. The page loads the
 * chat only when the launcher is clicked (or at once for a returning
 * visitor), so the click comes first and the panel opens once it is ready.
 */
export async function openWidget(page: Page, kefu: Kefu): Promise<void> {
  await page.goto(kefu.url + "/");
  await page.getByTestId("widget-launcher").click();
  await expect(page.getByTestId("widget-panel")).toBeVisible();
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

/** Types into the composer and presses Enter. */
export async function say(page: Page, text: string): Promise<void> {
  const composer = page.getByTestId("composer");
  await composer.fill(text);
  await composer.press("Enter");
}

/** Contexts opened by `newPage` in the running test; closed when it ends. */
const openContexts = new Set<BrowserContext>();

/** A page in a fresh browser context (its own cookies and localStorage). */
export async function newPage(
  browser: Browser,
  opts: { locale?: string } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext(opts);
  openContexts.add(context);
  const page = await context.newPage();
  return { context, page };
}

type Author = "visitor" | "agent" | "system";

/** Message rows in the page's message list (for classes and data attributes). */
export function rows(page: Page, author?: Author) {
  const all = page.getByTestId("message-list").getByTestId("message");
  return author ? all.and(page.locator(`[data-author="${author}"]`)) : all;
}

/** The texts of the page's messages (without author names or delivery marks). */
export function messages(page: Page, author?: Author) {
  return rows(page, author).locator(".text");
}
