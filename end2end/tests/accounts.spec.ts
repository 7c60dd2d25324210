// Accounts an agent can live with: the first-start setup asks for the code
// from kefu's log, agents change their own password, admins set one.
import { test, expect, signIn, newPage, hydrated, PASSWORD } from "./fixtures";

const NEW_PASSWORD = "a brand new secret";

test("first start: the setup form refuses a wrong code and takes the one from the log", async ({ browser, kefu }) => {
  const { page } = await newPage(browser);
  await page.goto(kefu.url + "/console");
  await hydrated(page);
  const setup = page.getByTestId("setup-form");
  await setup.locator('input[name="name"]').fill("Owner");
  await setup.locator('input[name="password"]').fill(PASSWORD);
  await setup.locator('input[name="setup_code"]').fill("0000-0000-0000-0000");
  await setup.locator('button[type="submit"]').click();
  await expect(page.getByTestId("form-error")).toHaveText(/wrong setup code/i);
  await expect(page.getByTestId("me")).toHaveCount(0);

  await setup.locator('input[name="setup_code"]').fill(kefu.setupCode());
  await setup.locator('button[type="submit"]').click();
  await expect(page.getByTestId("me")).toHaveText("Owner");
});

test("an agent changes their password: the current one is needed, other sessions end", async ({ browser, kefu }) => {
  kefu.addAgent("Ann");
  const here = await newPage(browser);
  await signIn(here.page, kefu, "Ann");
  const elsewhere = await newPage(browser);
  await signIn(elsewhere.page, kefu, "Ann");

  await here.page.getByTestId("password-toggle").click();
  const form = here.page.getByTestId("password-form");
  await form.locator('input[name="current"]').fill("not my password");
  await form.locator('input[name="new"]').fill(NEW_PASSWORD);
  await form.locator('button[type="submit"]').click();
  await expect(here.page.getByTestId("password-outcome")).toHaveText(/current password is wrong/i);

  await form.locator('input[name="current"]').fill(PASSWORD);
  await form.locator('input[name="new"]').fill(NEW_PASSWORD);
  await form.locator('button[type="submit"]').click();
  await expect(here.page.getByTestId("password-outcome")).toHaveText(/password was changed/i);

  // The other browser is signed out; this one stays.
  await elsewhere.page.reload();
  await hydrated(elsewhere.page);
  await expect(elsewhere.page.getByTestId("login-form")).toBeVisible();
  await here.page.reload();
  await hydrated(here.page);
  await expect(here.page.getByTestId("me")).toHaveText("Ann");

  // Only the new password signs in.
  const login = elsewhere.page.getByTestId("login-form");
  await login.locator('input[name="name"]').fill("Ann");
  await login.locator('input[name="password"]').fill(PASSWORD);
  await login.locator('button[type="submit"]').click();
  await expect(elsewhere.page.getByTestId("form-error")).toHaveText(/wrong name or password/i);
  await login.locator('input[name="password"]').fill(NEW_PASSWORD);
  await login.locator('button[type="submit"]').click();
  await expect(elsewhere.page.getByTestId("me")).toHaveText("Ann");
});

test("an admin sets an agent's password: the agent's console is signed out at once", async ({ browser, kefu }) => {
  kefu.addAgent("Boss", { admin: true });
  kefu.addAgent("Bea");
  const admin = await newPage(browser);
  await signIn(admin.page, kefu, "Boss");
  const bea = await newPage(browser);
  await signIn(bea.page, kefu, "Bea");

  await admin.page.getByTestId("agents-toggle").click();
  const row = admin.page.getByTestId("agent-row").filter({ hasText: "Bea" });
  const reset = row.getByTestId("reset-password-form");
  await reset.locator('input[name="password"]').fill(NEW_PASSWORD);
  await reset.locator('button[type="submit"]').click();
  await expect(admin.page.getByTestId("reset-outcome")).toContainText("Bea");

  // Bea's open console loses its socket and, reloaded, asks her to sign in.
  await expect(bea.page.getByTestId("reconnecting")).toBeVisible();
  await bea.page.reload();
  await hydrated(bea.page);
  const login = bea.page.getByTestId("login-form");
  await login.locator('input[name="name"]').fill("Bea");
  await login.locator('input[name="password"]').fill(NEW_PASSWORD);
  await login.locator('button[type="submit"]').click();
  await expect(bea.page.getByTestId("me")).toHaveText("Bea");
});
