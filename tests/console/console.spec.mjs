// The operator console in headless Chromium (the system's /usr/bin/chromium,
// driven by playwright-core). Started by the Rust test
// tests/it/console_browser.rs, which runs the server with real Redis and the
// Twilio simulator and passes:
//   CONSOLE_BASE_URL  the server          ACME_TOKEN, BOLT_TOKEN  two tenants' API tokens
//   CONTACTS          numbers to call     SCREENSHOT_DIR          where screenshots go
//   CHROMIUM          the browser (default /usr/bin/chromium)
// Exits non-zero, saying why, when a check fails.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const env = process.env;
const base = env.CONSOLE_BASE_URL;
const shots = env.SCREENSHOT_DIR;
const contacts = env.CONTACTS.split(",");
mkdirSync(shots, { recursive: true });

const step = (what) => console.log(`- ${what}`);
function check(ok, what) {
  if (!ok) throw new Error(`check failed: ${what}`);
}

async function api(token, method, path, body) {
  const resp = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body && JSON.stringify(body),
  });
  return { status: resp.status, json: await resp.json().catch(() => null) };
}

async function login(context, token) {
  const page = await context.newPage();
  await page.goto(`${base}/console/login`);
  await page.getByLabel("API token").fill(token);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL(`${base}/console/campaigns`);
  return page;
}

const progressOf = (page) =>
  page.getByRole("progressbar").getAttribute("aria-valuenow").then(Number);

const browser = await chromium.launch({
  executablePath: env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  // Root in a container has no user namespace for Chromium's sandbox.
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
try {
  const laptop = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  laptop.setDefaultTimeout(30_000);

  step("acme logs in with its API token");
  const live = await login(laptop, env.ACME_TOKEN);
  check((await live.locator("[data-tenant]").textContent()) === "acme", "tenant shown");

  step("the live calls page is open before the campaign starts");
  await live.goto(`${base}/console/live`);
  await live.locator("#no-live").waitFor();
  const liveLoadedAt = await live.evaluate(() => performance.timeOrigin);

  step("a campaign starts through the API");
  const created = await api(env.ACME_TOKEN, "POST", "/api/calls/outbound", {
    contacts: contacts.map((to, i) => ({ to, name: `Contact ${i + 1}` })),
    calls_per_second: 1,
    max_concurrent: 2,
  });
  check(created.status === 202, `campaign accepted: ${JSON.stringify(created)}`);
  const id = created.json.campaign_id;

  step("calls appear on the live page without a reload");
  await live.locator("#live-calls tbody tr").first().waitFor();
  check((await live.evaluate(() => performance.timeOrigin)) === liveLoadedAt, "no reload");
  await live.screenshot({ path: join(shots, "live-calls.png"), fullPage: true });

  step("the campaign's page: the progress bar moves");
  const page = await laptop.newPage();
  await page.goto(`${base}/console/campaigns`);
  await page.screenshot({ path: join(shots, "campaigns.png"), fullPage: true });
  await page.getByRole("link", { name: id }).click();
  await page.waitForURL(`${base}/console/campaigns/${id}`);
  const total = contacts.length;
  const first = await progressOf(page);
  check(first < total, `not done at once (${first})`);
  await page.waitForFunction(
    (before) => Number(document.querySelector("[role=progressbar]").getAttribute("aria-valuenow")) > before,
    first,
  );
  const moved = await progressOf(page);
  step(`progress ${first} -> ${moved} of ${total}`);
  await page.screenshot({ path: join(shots, "campaign.png"), fullPage: true });

  step("pause, then resume");
  await page.getByRole("button", { name: "Pause" }).click();
  await page.waitForURL(`${base}/console/campaigns/${id}`);
  check((await page.locator("#actions-h .badge").textContent()) === "paused", "paused badge");
  check((await api(env.ACME_TOKEN, "GET", `/api/campaigns/${id}`)).json.status === "paused", "paused in the API");
  check(await page.getByRole("button", { name: "Pause" }).isDisabled(), "pause disabled while paused");
  await page.getByRole("button", { name: "Resume" }).click();
  await page.waitForURL(`${base}/console/campaigns/${id}`);
  check((await page.locator("#actions-h .badge").textContent()) === "running", "running badge");

  step("the campaign finishes, followed live");
  await page.waitForFunction(
    (all) => Number(document.querySelector("[role=progressbar]").getAttribute("aria-valuenow")) === all,
    total,
    { timeout: 90_000 },
  );
  // Its status changed with it: the page shows the new one by itself.
  await page.locator('[data-page-status="completed"]').waitFor();
  check(await page.getByRole("button", { name: "Cancel" }).isDisabled(), "nothing left to cancel");
  await page.screenshot({ path: join(shots, "campaign-done.png"), fullPage: true });

  step("a call's timeline");
  await page.getByRole("link", { name: "Call of contact 0" }).click();
  await page.locator("#timeline li").first().waitFor();
  const events = await page.locator("#timeline > li").count();
  check(events >= 3, `timeline has events (${events})`);
  await page.locator("#timeline details").first().locator("summary").click();
  check((await page.locator("pre.twiml").first().textContent()).includes("<Response>"), "TwiML shown");
  check((await page.locator("#path").textContent()).startsWith("queued"), "path shown");
  check((await page.locator(".state.visited").count()) >= 3, "path highlighted");
  await page.screenshot({ path: join(shots, "call.png"), fullPage: true });

  step("the call log, filtered");
  await page.goto(`${base}/console/calls`);
  await page.getByLabel("Campaign").fill(id);
  await page.getByRole("button", { name: "Filter" }).click();
  check((await page.locator("#call-log tbody tr").count()) === total, "one row per contact");
  await page.screenshot({ path: join(shots, "call-log.png"), fullPage: true });

  step("the do-not-call list: add, search, remove");
  await page.goto(`${base}/console/dnc`);
  await page.getByLabel("Number", { exact: true }).last().fill("+15557778888");
  await page.getByRole("button", { name: "Add to the list" }).click();
  await page.locator("#lookup").waitFor();
  check((await page.locator("#lookup").textContent()).includes("is on the list"), "added");
  await page.screenshot({ path: join(shots, "dnc.png"), fullPage: true });
  await page.locator("#lookup").getByRole("button", { name: /Remove/ }).click();
  check((await page.locator("#lookup").textContent()).includes("is not on the list"), "removed");

  step("keyboard: the skip link comes first");
  await page.keyboard.press("Tab");
  check(await page.evaluate(() => document.activeElement.textContent === "Skip to content"), "skip link focused");

  step("on a phone");
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
  const small = await login(phone, env.ACME_TOKEN);
  await small.goto(`${base}/console/campaigns/${id}`);
  const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 1, `no sideways scrolling on a phone (${overflow}px)`);
  await small.screenshot({ path: join(shots, "campaign-phone.png"), fullPage: true });
  await phone.close();

  step("another tenant sees none of it");
  const other = await browser.newContext();
  const bolt = await login(other, env.BOLT_TOKEN);
  check((await bolt.locator("main").textContent()).includes("No campaigns yet"), "bolt has no campaigns");
  check(!(await bolt.content()).includes(id), "acme's campaign not listed");
  const foreign = await bolt.goto(`${base}/console/campaigns/${id}`);
  check(foreign.status() === 404, `acme's campaign is not found (${foreign.status()})`);
  await bolt.goto(`${base}/console/calls`);
  check((await bolt.locator("#call-log").count()) === 0, "no calls in bolt's log");
  await other.close();

  step("logout ends the session");
  await page.getByRole("button", { name: "Log out" }).click();
  await page.waitForURL(`${base}/console/login`);
  await page.goto(`${base}/console/campaigns`);
  check(page.url() === `${base}/console/login`, "back at the login");
  console.log("console browser test: ok");
} finally {
  await browser.close();
}
