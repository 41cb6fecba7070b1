// OIDC sign-in through the console in headless Chromium, then the CLI secret with crane (see
// e2e/oidc.sh). Every step asserts; a failure prints the step, saves a screenshot and exits 1.
"use strict";

const assert = require("node:assert/strict");
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const { chromium } = require(process.env.PLAYWRIGHT_CORE);

const BASE = process.env.E2E_BASE_URL;
const REGISTRY = process.env.E2E_REGISTRY;
const ADMIN = "Basic " + Buffer.from(`admin:${process.env.E2E_ADMIN_PASSWORD}`).toString("base64");
const ISSUER = process.env.E2E_ISSUER;
const IDP_PID = Number(process.env.E2E_IDP_PID);
const SHOTS = process.env.E2E_SCREENSHOTS;
const TMP = process.env.E2E_TMP;
const CRANE = path.join(process.env.BERTH_TOOLS_DIR || "/var/cache/berth/bin", "crane");

const USER = "bob"; // groups ["dev-team"] at the provider
const IDP_PASSWORD = "Passw0rd!x";
const PROJECT = "team";

let passed = 0;

async function step(name, fn) {
  const started = Date.now();
  await fn();
  passed += 1;
  console.log(`ok - ${name} (${Date.now() - started} ms)`);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** A REST call; returns status and parsed body. */
async function api(method, urlPath, { auth = ADMIN, body } = {}) {
  const res = await fetch(`${BASE}${urlPath}`, {
    method,
    headers: { Authorization: auth, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: res.status, body: json };
}

const basic = (user, secret) => "Basic " + Buffer.from(`${user}:${secret}`).toString("base64");

/** The token service's answer to `user`/`secret` asking to pull from the project. */
async function tokenStatus(user, secret) {
  const scope = encodeURIComponent(`repository:${PROJECT}/app:pull`);
  const res = await fetch(`${BASE}/service/token?service=berth&scope=${scope}`, {
    headers: { Authorization: basic(user, secret) },
  });
  return res.status;
}

function crane(args, opts = {}) {
  return execFileSync(CRANE, args, { encoding: "utf8", stdio: "pipe", ...opts }).trim();
}

async function run(page) {
  const pageErrors = [];
  page.on("pageerror", (err) => pageErrors.push(err.message));

  await step("the sign-in page offers the configured provider", async () => {
    await page.goto(`${BASE}/`);
    const button = page.getByTestId("oidc-provider");
    await button.filter({ hasText: "Test IdP" }).waitFor();
    await shot(page, "01-sign-in-with-provider");
  });

  await step("sign in at the provider's form and land in the console", async () => {
    await page.getByTestId("oidc-provider").click();
    await page.waitForURL((url) => url.href.startsWith(ISSUER));
    await page.locator("#login").fill(USER);
    await page.locator("#password").fill(IDP_PASSWORD);
    await shot(page, "02-provider-form");
    await page.locator("#submit").click();
    await page.waitForURL((url) => url.href.startsWith(BASE));
    await page.getByTestId("current-user").filter({ hasText: USER }).waitFor();
    await page.getByRole("heading", { name: "Projects" }).waitFor();
    await shot(page, "03-signed-in");
  });

  let groupId;
  await step("the user and its OIDC group exist; the group becomes a project member", async () => {
    const users = await api("GET", `/api/v2.0/users/search?username=${USER}`);
    assert.equal(users.status, 200);
    const user = users.body.find((u) => u.username === USER);
    assert.ok(user, "bob was onboarded");
    const groups = await api("GET", "/api/v2.0/usergroups/search?group_name=dev-team");
    const group = groups.body.find((g) => g.group_name === "dev-team");
    assert.ok(group, "dev-team exists");
    groupId = group.id;
    const full = await api("GET", `/api/v2.0/usergroups/${groupId}`);
    assert.equal(full.body.group_type, 3, "an OIDC group");
    const members = await api("GET", `/api/v2.0/usergroups/${groupId}/members`);
    assert.ok(members.body.some((m) => m.username === USER), "bob is in dev-team");
    const added = await api("POST", `/api/v2.0/projects/${PROJECT}/members`, {
      body: { role_id: 2, member_group: { id: groupId } },
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const listed = await api("GET", `/api/v2.0/projects/${PROJECT}/members`);
    assert.ok(listed.body.some((m) => m.entity_type === "g" && m.entity_name === "dev-team"));
  });

  let secret;
  let replaced;
  await step("the account page shows a CLI secret once, and again when regenerated", async () => {
    await page.getByRole("link", { name: "Account" }).click();
    await page.getByRole("heading", { name: "Account settings" }).waitFor();
    await page.getByTestId("cli-secret-status").filter({ hasText: "No CLI secret yet." }).waitFor();
    await page.getByRole("button", { name: "Generate new secret" }).click();
    replaced = (await page.getByTestId("cli-secret").innerText()).trim();
    await page.getByRole("button", { name: "Generate new secret" }).click();
    await page.getByTestId("cli-secret").filter({ hasNotText: replaced }).waitFor();
    secret = (await page.getByTestId("cli-secret").innerText()).trim();
    assert.match(secret, /^bcli_/);
    assert.notEqual(secret, replaced);
    await page.getByTestId("cli-secret-status").filter({ hasText: /^Set on / }).waitFor();
    await shot(page, "04-cli-secret");
    assert.equal(await tokenStatus(USER, replaced), 401, "the replaced secret is refused");
    assert.equal(await tokenStatus(USER, secret), 200);
  });

  let shortToken;
  let shortCreated;
  await step("a personal access token is created on the account page, shown once", async () => {
    await page.locator('input[name="token-name"]').fill("short-lived");
    // 0.0001 days: about 9 seconds.
    await page.locator('input[name="token-days"]').fill("0.0001");
    await page.getByRole("button", { name: "Create token" }).click();
    shortToken = (await page.getByTestId("new-token").innerText()).trim();
    shortCreated = Date.now();
    assert.match(shortToken, /^bpat_/);
    await page.locator('tr[data-token="short-lived"]').waitFor();
    assert.equal(await tokenStatus(USER, shortToken), 200, "works before it expires");
    await shot(page, "05-access-token");
  });

  await step("sign out ends the provider session too (RP-initiated logout)", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL((url) => url.href.startsWith(ISSUER));
    await shot(page, "06-provider-logout");
    await page.locator('button[name="logout"][value="yes"]').click();
    await page.waitForURL((url) => url.href.startsWith(BASE));
    await page.getByRole("button", { name: "Sign in" }).waitFor();
  });

  await step("with the provider gone, crane pushes and pulls with the CLI secret", async () => {
    process.kill(IDP_PID, "SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const layerDir = path.join(TMP, "layer");
    fs.mkdirSync(layerDir, { recursive: true });
    fs.writeFileSync(path.join(layerDir, "hello.txt"), `hello from the OIDC test ${Date.now()}\n`);
    const layer = path.join(TMP, "layer.tar");
    execFileSync("tar", ["-cf", layer, "-C", layerDir, "hello.txt"]);
    crane(["auth", "login", REGISTRY, "-u", USER, "-p", secret]);
    const ref = crane(["--insecure", "append", "--oci-empty-base", "-f", layer,
      "-t", `${REGISTRY}/${PROJECT}/app:v1`]);
    const digest = ref.split("@")[1];
    assert.match(digest, /^sha256:[0-9a-f]{64}$/);
    const pulled = path.join(TMP, "pulled.tar");
    crane(["--insecure", "pull", `${REGISTRY}/${PROJECT}/app:v1`, pulled]);
    assert.ok(fs.statSync(pulled).size > 0);
    assert.equal(crane(["--insecure", "digest", `${REGISTRY}/${PROJECT}/app:v1`]), digest);
  });

  await step("an expired personal access token is refused", async () => {
    const left = shortCreated + 9500 - Date.now();
    if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
    assert.equal(await tokenStatus(USER, shortToken), 401);
  });

  await step("a revoked CLI secret is refused, by the token service and by crane", async () => {
    const users = await api("GET", `/api/v2.0/users/search?username=${USER}`);
    const id = users.body.find((u) => u.username === USER).user_id;
    const revoked = await api("DELETE", `/api/v2.0/users/${id}/cli_secret`);
    assert.equal(revoked.status, 200);
    assert.equal(await tokenStatus(USER, secret), 401);
    assert.throws(
      () => crane(["--insecure", "digest", `${REGISTRY}/${PROJECT}/app:v1`]),
      /401|UNAUTHORIZED|unauthorized/,
    );
  });

  assert.deepEqual(pageErrors, [], "uncaught errors in the page");
}

(async () => {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(15000);
  let failed = false;
  try {
    await run(page);
  } catch (err) {
    failed = true;
    console.log(`not ok - ${err.stack || err}`);
    await shot(page, "failure").catch(() => {});
  } finally {
    await browser.close();
  }
  console.log(`${passed} passed, ${failed ? 1 : 0} failed`);
  process.exit(failed ? 1 : 0);
})();
