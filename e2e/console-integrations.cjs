// Drives the console's registry, proxy-cache and webhook pages in headless Chromium against a
// running Berth (run by e2e/console.sh after console.cjs). The registry endpoint points at the
// same Berth, so a proxy-cache project pulls another project's image through the real token
// flow; a webhook policy posts to an HTTP server this script runs.
"use strict";

const assert = require("node:assert/strict");
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");
const { chromium } = require(process.env.PLAYWRIGHT_CORE);

const BASE = process.env.E2E_BASE_URL;
const REGISTRY = process.env.E2E_REGISTRY;
const ADMIN_PASSWORD = process.env.E2E_ADMIN_PASSWORD;
const SHOTS = process.env.E2E_SCREENSHOTS;
const TMP = process.env.E2E_TMP;
const CRANE = path.join(process.env.BERTH_TOOLS_DIR || "/var/cache/berth/bin", "crane");
const SOURCE = "integrations";
const PROXY = "hub";

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

function crane(args) {
  return execFileSync(CRANE, ["--insecure", ...args], { encoding: "utf8", stdio: "pipe" }).trim();
}

async function api(method, url, body) {
  const res = await fetch(`${BASE}/api/v2.0${url}`, {
    method,
    headers: {
      Authorization: "Basic " + Buffer.from(`admin:${ADMIN_PASSWORD}`).toString("base64"),
      "Content-Type": "application/json",
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res;
}

function pushImage(repository, tag) {
  const dir = path.join(TMP, "integrations-layer");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "hello.txt"), `integrations ${Date.now()}\n`);
  const layer = path.join(TMP, "integrations-layer.tar");
  execFileSync("tar", ["-cf", layer, "-C", dir, "hello.txt"]);
  crane(["auth", "login", REGISTRY, "-u", "admin", "-p", ADMIN_PASSWORD]);
  const ref = crane(["append", "--oci-empty-base", "-f", layer, "-t", `${REGISTRY}/${repository}:${tag}`]);
  return ref.split("@")[1];
}

/** An HTTP server that keeps every JSON body POSTed to it. */
function receiver() {
  const got = [];
  const server = http.createServer((req, res) => {
    let data = "";
    req.on("data", (chunk) => (data += chunk));
    req.on("end", () => {
      got.push({ headers: req.headers, body: JSON.parse(data || "null") });
      res.writeHead(200);
      res.end();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve({ server, got, port: server.address().port })),
  );
}

async function run(page, hook) {
  const pageErrors = [];
  page.on("pageerror", (err) => pageErrors.push(err.message));

  let digest;
  await step("setup: a project with an image, pushed with crane", async () => {
    const res = await api("POST", "/projects", { project_name: SOURCE, metadata: { public: "false" } });
    assert.ok(res.status === 201 || res.status === 409, `create project: ${res.status}`);
    digest = pushImage(`${SOURCE}/app`, "v1");
  });

  await step("admin signs in", async () => {
    await page.goto(`${BASE}/projects`);
    await page.getByLabel("Username").fill("admin");
    await page.getByLabel("Password").fill(ADMIN_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByTestId("current-user").filter({ hasText: "admin" }).waitFor();
  });

  await step("registries: a wrong secret fails the connection test with the upstream's reason", async () => {
    await page.getByRole("link", { name: "Registries" }).click();
    await page.getByRole("heading", { name: "Registries" }).waitFor();
    const form = page.getByRole("form", { name: "New registry" });
    await form.getByLabel("Registry name").fill("self");
    await form.getByLabel("Provider").selectOption("berth");
    await form.getByLabel("Registry URL").fill(BASE);
    await form.getByLabel("Access key").fill("admin");
    await form.getByLabel("Access secret").fill("wrong-secret");
    await form.getByRole("button", { name: "Test connection" }).click();
    await form.getByRole("alert").filter({ hasText: "refused" }).waitFor();
  });

  await step("registries: the right secret passes the test; the endpoint is created", async () => {
    const form = page.getByRole("form", { name: "New registry" });
    await form.getByLabel("Access secret").fill(ADMIN_PASSWORD);
    await form.getByRole("button", { name: "Test connection" }).click();
    await form.getByRole("status").filter({ hasText: "accepted the credentials" }).waitFor();
    await form.getByRole("button", { name: "+ New registry" }).click();
    const row = page.locator('tr[data-registry="self"]');
    await row.waitFor();
    assert.match(await row.innerText(), /berth/);
    assert.match(await row.innerText(), /admin/);
    assert.doesNotMatch(await page.content(), new RegExp(ADMIN_PASSWORD));
    await shot(page, "40-admin-registries");
  });

  await step("a proxy-cache project is created from the new-project dialog", async () => {
    await page.getByRole("link", { name: "Projects" }).first().click();
    await page.getByRole("button", { name: "+ New project" }).click();
    const dialog = page.getByRole("dialog", { name: "New project" });
    await dialog.getByLabel("Project name").fill(PROXY);
    await dialog.locator('select[name="registry"]').selectOption({ label: `self (${BASE})` });
    await shot(page, "41-create-proxy-project");
    await dialog.getByRole("button", { name: "Create" }).click();
    await dialog.waitFor({ state: "hidden" });
    await page.locator(`tr[data-project="${PROXY}"]`).waitFor();
    const res = await api("GET", `/projects/${PROXY}`);
    assert.equal(typeof (await res.json()).registry_id, "number");
  });

  await step("crane pulls through the proxy cache; the cached repository shows in the console", async () => {
    const pulled = crane(["digest", `${REGISTRY}/${PROXY}/${SOURCE}/app:v1`]);
    assert.equal(pulled, digest);
    crane(["pull", "--format", "oci", `${REGISTRY}/${PROXY}/${SOURCE}/app:v1`, path.join(TMP, "proxied")]);
    await page.goto(`${BASE}/projects/${PROXY}/repositories`);
    await page.getByText(`${SOURCE}/app`).first().waitFor();
    await shot(page, "42-proxy-project-repositories");
  });

  await step("webhooks: a policy is created in the project's tab", async () => {
    await page.goto(`${BASE}/projects/${SOURCE}/webhooks`);
    const form = page.getByRole("form", { name: "New webhook" });
    await form.getByLabel("Webhook name").fill("ci");
    await form.getByLabel("Endpoint URL").fill(`http://127.0.0.1:${hook.port}/berth`);
    await form.locator('input[name="event"][value="PUSH_ARTIFACT"]').check();
    await form.getByLabel("Signing secret").fill("hook-secret");
    await form.getByRole("button", { name: "+ New webhook" }).click();
    const card = page.locator('article[data-webhook="ci"]');
    await card.waitFor();
    assert.match(await card.innerText(), /PUSH_ARTIFACT/);
    assert.match(await card.innerText(), /Enabled/);
  });

  await step("a push is delivered, signed, and listed as a successful delivery with its log", async () => {
    const pushed = pushImage(`${SOURCE}/app`, "v2");
    for (let i = 0; i < 100 && hook.got.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(hook.got.length, 1, "one delivery");
    const { headers, body } = hook.got[0];
    assert.equal(body.type, "PUSH_ARTIFACT");
    assert.equal(body.event_data.resources[0].digest, pushed);
    assert.equal(body.event_data.resources[0].tag, "v2");
    assert.match(headers["x-berth-signature-256"], /^sha256=[0-9a-f]{64}$/);
    const card = page.locator('article[data-webhook="ci"]');
    await card.locator("summary").click();
    for (let i = 0; i < 50; i++) {
      await card.getByRole("button", { name: "Refresh" }).click();
      if ((await card.innerText()).includes("Success")) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.match(await card.innerText(), /Success/);
    await card.getByRole("button", { name: "Log" }).first().click();
    await card.locator("pre.log").filter({ hasText: "delivered to" }).waitFor();
    await shot(page, "43-project-webhooks");
  });

  await step("a disabled policy sends nothing", async () => {
    const card = page.locator('article[data-webhook="ci"]');
    await card.getByRole("button", { name: "Disable" }).click();
    await page.locator('article[data-webhook="ci"]').filter({ hasText: "Disabled" }).waitFor();
    pushImage(`${SOURCE}/app`, "v3");
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(hook.got.length, 1);
  });

  await step("an endpoint in use is not deleted; the console shows why", async () => {
    await page.goto(`${BASE}/admin/registries`);
    await page.locator('tr[data-registry="self"]').getByRole("button", { name: "Delete" }).click();
    await page.getByRole("alert").filter({ hasText: "proxy-cache project" }).waitFor();
  });

  assert.deepEqual(pageErrors, [], "uncaught errors in the page");
}

(async () => {
  const hook = await receiver();
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(15000);
  let failed = false;
  try {
    await run(page, hook);
  } catch (err) {
    failed = true;
    console.log(`not ok - ${err.stack || err}`);
    await shot(page, "failure-integrations").catch(() => {});
  } finally {
    await browser.close();
    hook.server.close();
  }
  console.log(`${passed} passed, ${failed ? 1 : 0} failed`);
  process.exit(failed ? 1 : 0);
})();
