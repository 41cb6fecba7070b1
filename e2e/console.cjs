// Drives the console in headless Chromium against a running Berth (see e2e/console.sh).
// Every step asserts what the page shows; a failure prints the step, saves a screenshot of the
// page as it was and exits 1.
"use strict";

const assert = require("node:assert/strict");
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const { chromium } = require(process.env.PLAYWRIGHT_CORE);

const BASE = process.env.E2E_BASE_URL;
const REGISTRY = process.env.E2E_REGISTRY;
const ADMIN_PASSWORD = process.env.E2E_ADMIN_PASSWORD;
const SHOTS = process.env.E2E_SCREENSHOTS;
const TMP = process.env.E2E_TMP;
const CRANE = path.join(process.env.BERTH_TOOLS_DIR || "/var/cache/berth/bin", "crane");

const DB = process.env.E2E_DATABASE;
const BIG = 100000;

const PROJECT = "console-e2e";
const MEMBER = "alice";
const MEMBER_PASSWORD = "Alice-Passw0rd";

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

async function signIn(page, username, password) {
  await page.goto(`${BASE}/projects`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("current-user").filter({ hasText: username }).waitFor();
}

async function signOut(page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("button", { name: "Sign in" }).waitFor();
}

/** Pushes a one-layer image with crane, as the admin, and returns its digest. */
function pushImage(repository, tag) {
  const layer = path.join(TMP, "layer.tar");
  const dir = path.join(TMP, "layer");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "hello.txt"), `hello from the console test ${Date.now()}\n`);
  execFileSync("tar", ["-cf", layer, "-C", dir, "hello.txt"]);
  execFileSync(CRANE, ["auth", "login", REGISTRY, "-u", "admin", "-p", ADMIN_PASSWORD], {
    stdio: "pipe",
  });
  const ref = execFileSync(
    CRANE,
    ["--insecure", "append", "--oci-empty-base", "-f", layer, "-t", `${REGISTRY}/${repository}:${tag}`],
    { encoding: "utf8" },
  ).trim();
  return ref.split("@")[1];
}

/** Runs crane with the given arguments and returns its output. */
function crane(args) {
  return execFileSync(CRANE, ["--insecure", ...args], { encoding: "utf8", stdio: "pipe" }).trim();
}

async function run(page) {
  const pageErrors = [];
  page.on("pageerror", (err) => pageErrors.push(err.message));

  await step("wrong password shows a readable error", async () => {
    const started = Date.now();
    await page.goto(`${BASE}/`);
    await page.getByLabel("Username").waitFor();
    console.log(`# sign-in form rendered ${Date.now() - started} ms after navigation (cold cache)`);
    await page.getByLabel("Username").fill("admin");
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "wrong username or password" }).waitFor();
    await shot(page, "01-sign-in-error");
  });

  await step("admin signs in and sees the projects list", async () => {
    await signIn(page, "admin", ADMIN_PASSWORD);
    await page.getByRole("heading", { name: "Projects" }).waitFor();
    await page.getByRole("link", { name: "Users" }).waitFor();
    await shot(page, "02-projects-empty");
  });

  await step("create a project with the dialog (private, 2 GiB quota)", async () => {
    await page.getByRole("button", { name: "+ New project" }).click();
    const dialog = page.getByRole("dialog", { name: "New project" });
    await dialog.getByLabel("Project name").fill(PROJECT);
    await dialog.locator('input[name="quota"]').fill("2");
    await shot(page, "03-create-project-dialog");
    await dialog.getByRole("button", { name: "Create" }).click();
    await dialog.waitFor({ state: "hidden" });
    const row = page.locator(`tr[data-project="${PROJECT}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), /Private/);
    assert.match(await row.innerText(), /Project Admin/);
  });

  await step("creating it again shows the server's conflict message", async () => {
    await page.getByRole("button", { name: "+ New project" }).click();
    const dialog = page.getByRole("dialog", { name: "New project" });
    await dialog.getByLabel("Project name").fill(PROJECT);
    await dialog.getByRole("button", { name: "Create" }).click();
    await dialog.getByRole("alert").filter({ hasText: `project ${PROJECT} already exists` }).waitFor();
    await shot(page, "04-create-project-conflict");
    await dialog.getByRole("button", { name: "Cancel" }).click();
  });

  await step("search filters the list on the server", async () => {
    const search = page.getByLabel("Search projects");
    await search.fill("no-such-project");
    await page.getByText("No projects match.").waitFor();
    await search.fill("console");
    await page.locator(`tr[data-project="${PROJECT}"]`).waitFor();
  });

  let digest;
  await step("push an image with crane; the summary counts the repository", async () => {
    await page.locator(`tr[data-project="${PROJECT}"] a`).click();
    await page.getByTestId("repo-count").filter({ hasText: "0" }).waitFor();
    digest = pushImage(`${PROJECT}/hello`, "v1");
    assert.match(digest, /^sha256:[0-9a-f]{64}$/);
    await page.reload();
    await page.getByTestId("repo-count").filter({ hasText: "1" }).waitFor();
    const quota = await page.getByTestId("quota").innerText();
    assert.match(quota, /of 2\.0 GiB/);
    assert.doesNotMatch(quota, /^0 B of/m);
    await shot(page, "05-project-summary");
    await page.goto(`${BASE}/projects`);
    const row = page.locator(`tr[data-project="${PROJECT}"]`);
    await row.waitFor();
    assert.equal((await row.locator("td.num").innerText()).trim(), "1");
    await shot(page, "06-projects-list");
  });

  const REPO_PAGE = `${BASE}/projects/${PROJECT}/repositories/hello`;
  await step("repositories tab lists the pushed repository; search runs on the server", async () => {
    await page.goto(`${BASE}/projects/${PROJECT}`);
    await page.getByRole("navigation", { name: "Project sections" }).getByRole("link", { name: "Repositories" }).click();
    const row = page.locator(`tr[data-repository="${PROJECT}/hello"]`);
    await row.waitFor();
    assert.match(await row.innerText(), /\b1\b/);
    await page.getByLabel("Search repositories").fill("nothing-like-this");
    await page.getByText("No repositories match.").waitFor();
    await page.getByLabel("Search repositories").fill("hel");
    await row.waitFor();
    await shot(page, "16-repositories");
  });

  await step("the repository's description is edited as Markdown and shown sanitized", async () => {
    await page.locator(`tr[data-repository="${PROJECT}/hello"] a`).click();
    await page.getByTestId("repository-name").filter({ hasText: `${PROJECT}/hello` }).waitFor();
    await page.getByText("No description.").waitFor();
    await page.getByRole("button", { name: "Edit description" }).click();
    await page
      .getByLabel("Description (Markdown)")
      .fill("# Hello image\n\nBuilt by **the console test**.\n\n<script>window.owned = 1</script>");
    await page.getByRole("button", { name: "Save description" }).click();
    const description = page.getByTestId("description");
    await description.locator("h1", { hasText: "Hello image" }).waitFor();
    assert.equal(await description.locator("strong").innerText(), "the console test");
    assert.equal(await description.locator("script").count(), 0);
    assert.match(await description.innerText(), /<script>window\.owned = 1<\/script>/);
    assert.equal(await page.evaluate(() => window.owned), undefined);
  });

  await step("the artifacts list shows the image with its tag, size and push time", async () => {
    const row = page.locator(`tr[data-artifact="${digest}"]`);
    await row.waitFor();
    const text = await row.innerText();
    assert.match(text, /v1/);
    assert.match(text, /IMAGE/);
    assert.match(text, /\d+(\.\d)? (B|KiB)/);
    await shot(page, "17-repository");
  });

  let layerDigest;
  await step("the artifact page shows digest, tags, layers, build history and pull command", async () => {
    const manifest = JSON.parse(crane(["manifest", `${REGISTRY}/${PROJECT}/hello:v1`]));
    assert.equal(manifest.layers.length, 1);
    layerDigest = manifest.layers[0].digest;
    await page.locator(`tr[data-artifact="${digest}"] a`).click();
    await page.getByTestId("artifact-digest").filter({ hasText: digest }).waitFor();
    await page.locator('tr[data-tag="v1"]').waitFor();
    const layer = page.locator(`tr[data-layer="${layerDigest}"]`);
    await layer.waitFor();
    assert.match(await layer.innerText(), /application\/vnd\.(oci|docker)\..*tar/);
    await page.getByTestId("history").waitFor();
    await page.getByTestId("accessories").filter({ hasText: "No signatures or SBOMs." }).waitFor();
    const command = await page.getByTestId("pull-command").innerText();
    assert.equal(command, `docker pull ${REGISTRY}/${PROJECT}/hello:v1`);
    await page.getByRole("button", { name: "Copy pull command" }).click();
    await page.getByRole("button", { name: "Copied" }).waitFor();
    await shot(page, "18-artifact");
  });

  await step("add tag 'stable' in the console; the registry serves it; delete it again", async () => {
    await page.getByLabel("New tag").fill("stable");
    await page.getByRole("button", { name: "+ Add tag" }).click();
    await page.locator('tr[data-tag="stable"]').waitFor();
    assert.equal(crane(["digest", `${REGISTRY}/${PROJECT}/hello:stable`]), digest);
    await page.getByLabel("New tag").fill("stable");
    await page.getByRole("button", { name: "+ Add tag" }).click();
    await page.getByRole("alert").filter({ hasText: "tag stable already exists" }).waitFor();
    await shot(page, "19-artifact-tags");
    await page.locator('tr[data-tag="stable"]').getByRole("button", { name: "Delete tag" }).click();
    await page.locator('tr[data-tag="stable"]').waitFor({ state: "detached" });
    assert.throws(() => crane(["digest", `${REGISTRY}/${PROJECT}/hello:stable`]));
    assert.equal(crane(["digest", `${REGISTRY}/${PROJECT}/hello:v1`]), digest);
  });

  let robotSecret;
  const ROBOT = `robot$${PROJECT}+puller`;
  await step("create a pull-only robot with the permission picker; its secret is shown once", async () => {
    await page.goto(`${BASE}/projects/${PROJECT}`);
    await page.getByRole("navigation", { name: "Project sections" }).getByRole("link", { name: "Robot accounts" }).click();
    await page.getByText("No robot accounts.").waitFor();
    await page.getByRole("button", { name: "+ New robot account" }).click();
    const dialog = page.getByRole("dialog", { name: "New robot account" });
    await dialog.locator('input[name="robot_name"]').fill("puller");
    await dialog.locator('input[name="robot_description"]').fill("pulls in CI");
    await dialog.locator('input[data-permission="repository:pull"]').check();
    await shot(page, "20-robot-create-dialog");
    await dialog.getByRole("button", { name: "Create robot" }).click();
    await dialog.waitFor({ state: "hidden" });
    await page.getByTestId("robot-name").filter({ hasText: ROBOT }).waitFor();
    robotSecret = (await page.getByTestId("robot-secret").innerText()).trim();
    assert.ok(robotSecret.length >= 8, "a secret is shown");
    const row = page.locator(`tr[data-robot="${ROBOT}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), /Enabled/);
    assert.match(await row.innerText(), /1 permissions/);
    await shot(page, "21-robot-secret");
    await page.getByRole("button", { name: "Done" }).click();
    assert.equal(await page.getByTestId("robot-secret").count(), 0);
  });

  await step("the robot's secret pulls the image with crane; pushing is refused", async () => {
    crane(["auth", "login", REGISTRY, "-u", ROBOT, "-p", robotSecret]);
    const tarball = path.join(TMP, "pulled.tar");
    crane(["pull", `${REGISTRY}/${PROJECT}/hello:v1`, tarball]);
    assert.ok(fs.statSync(tarball).size > 0);
    assert.throws(() => crane(["tag", `${REGISTRY}/${PROJECT}/hello:v1`, "robot-pushed"]));
  });

  await step("disable the robot: pulls are refused; refresh its secret, enable, pull again", async () => {
    const row = page.locator(`tr[data-robot="${ROBOT}"]`);
    await row.getByRole("button", { name: "Disable" }).click();
    await row.filter({ hasText: "Disabled" }).waitFor();
    assert.throws(() => crane(["digest", `${REGISTRY}/${PROJECT}/hello:v1`]));
    await row.getByRole("button", { name: "Refresh secret" }).click();
    await page.getByTestId("robot-secret").waitFor();
    const fresh = (await page.getByTestId("robot-secret").innerText()).trim();
    assert.notEqual(fresh, robotSecret);
    await page.getByRole("button", { name: "Done" }).click();
    await row.getByRole("button", { name: "Enable" }).click();
    await row.filter({ hasText: "Enabled" }).waitFor();
    assert.throws(() => crane(["digest", `${REGISTRY}/${PROJECT}/hello:v1`]), "the old secret is dead");
    crane(["auth", "login", REGISTRY, "-u", ROBOT, "-p", fresh]);
    assert.equal(crane(["digest", `${REGISTRY}/${PROJECT}/hello:v1`]), digest);
    await shot(page, "22-robots");
  });

  await step("system robot accounts page lists system robots", async () => {
    await page.getByRole("link", { name: "System robots" }).click();
    await page.getByRole("heading", { name: "System robot accounts" }).waitFor();
    await page.getByText("No robot accounts.").waitFor();
    assert.equal(await page.locator(`tr[data-robot="${ROBOT}"]`).count(), 0);
    await shot(page, "23-system-robots");
  });

  await step("garbage collection: a dry run shows in the history with its progress and log", async () => {
    await page.getByRole("link", { name: "Garbage collection" }).click();
    await page.getByRole("heading", { name: "Garbage collection" }).waitFor();
    await page.getByText("No garbage collection has run yet.").waitFor();
    await page.getByRole("button", { name: "Dry run" }).click();
    const row = page.locator("tr[data-gc]").first();
    await row.waitFor();
    assert.match(await row.innerText(), /dry run/);
    for (let i = 0; i < 50 && !/Success/.test(await row.getByTestId("gc-status").innerText()); i++) {
      await page.waitForTimeout(200);
      await page.getByRole("button", { name: "Refresh" }).click();
    }
    assert.equal(await row.getByTestId("gc-status").innerText(), "Success");
    await row.getByRole("button", { name: "Log" }).click();
    const log = row.getByTestId("job-log");
    await log.waitFor();
    assert.ok((await log.innerText()).trim().length > 0, "the run has a log");
    await page.getByLabel("Schedule").selectOption("Custom");
    await page.getByLabel("Cron").fill("not a cron");
    await page.getByRole("button", { name: "Save schedule" }).click();
    await page.getByRole("alert").filter({ hasText: "cron" }).waitFor();
    await page.getByLabel("Cron").fill("0 0 3 * * *");
    await page.getByRole("button", { name: "Save schedule" }).click();
    await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    await shot(page, "27-garbage-collection");
  });

  await step("job service: queues pause and resume; the GC run is listed with its status", async () => {
    await page.getByRole("link", { name: "Job service" }).click();
    const queue = page.locator('tr[data-queue="GARBAGE_COLLECTION"]');
    await queue.waitFor();
    await queue.getByRole("button", { name: "Pause" }).click();
    await queue.filter({ hasText: "Paused" }).waitFor();
    await queue.getByRole("button", { name: "Resume" }).click();
    await queue.filter({ hasText: "Running" }).waitFor();
    const job = page.locator("tr[data-job]").first();
    await job.waitFor();
    assert.match(await job.innerText(), /GARBAGE_COLLECTION/);
    assert.equal(await job.getByTestId("job-status").innerText(), "Success");
    await page.getByLabel("Job type").selectOption("RETENTION");
    await page.getByText("No jobs.").waitFor();
    await shot(page, "28-job-service");
  });

  await step("audit logs: the project's tab and the system page filter on the server", async () => {
    await page.goto(`${BASE}/projects/${PROJECT}/logs`);
    await page.locator("tr[data-audit]").first().waitFor();
    await page.getByLabel("Filter by operation").selectOption("delete");
    await page.locator('tr[data-audit="delete"]').first().waitFor();
    assert.equal(await page.locator('tr[data-audit]:not([data-audit="delete"])').count(), 0);
    assert.match(await page.getByTestId("audit-logs").innerText(), /stable/);
    await shot(page, "29-project-logs");
    await page.getByRole("link", { name: "Audit logs" }).click();
    await page.getByRole("heading", { name: "Audit logs" }).waitFor();
    await page.locator("tr[data-audit]").first().waitFor();
    await page.getByLabel("Filter by user").fill("nobody-like-this");
    await page.getByText("No audit entries match.").waitFor();
    await page.getByLabel("Filter by user").fill("admin");
    await page.locator("tr[data-audit]").first().waitFor();
    await shot(page, "30-audit-logs");
  });

  await step("global search finds the project and its repository", async () => {
    await page.getByLabel("Search Berth").fill("hell");
    const repos = page.getByTestId("search-repositories");
    await repos.getByRole("link", { name: `${PROJECT}/hello` }).waitFor();
    await shot(page, "31-search");
    await repos.getByRole("link", { name: `${PROJECT}/hello` }).click();
    await page.getByTestId("repository-name").filter({ hasText: `${PROJECT}/hello` }).waitFor();
    await page.getByLabel("Search Berth").fill("console-e2");
    await page.getByTestId("search-projects").getByRole("link", { name: PROJECT }).waitFor();
    await page.getByLabel("Search Berth").fill("");
  });

  await step("labels: a global and a project label, attached to the artifact and detached", async () => {
    await page.getByRole("navigation", { name: "Sections", exact: true }).getByRole("link", { name: "Labels" }).click();
    await page.getByRole("heading", { name: "Labels" }).waitFor();
    await page.getByLabel("Label name").fill("release");
    await page.getByLabel("Label description").fill("ready to ship");
    await page.getByRole("button", { name: "+ New label" }).click();
    await page.locator('tr[data-label="release"]').waitFor();
    await page.goto(`${BASE}/projects/${PROJECT}/labels`);
    await page.getByLabel("Label name").fill("qa");
    await page.getByRole("button", { name: "+ New label" }).click();
    await page.locator('tr[data-label="qa"]').waitFor();
    await page.getByLabel("Label name").fill("qa");
    await page.getByRole("button", { name: "+ New label" }).click();
    await page.getByRole("alert").waitFor();
    await shot(page, "32-project-labels");
    await page.goto(`${REPO_PAGE}/-/${digest}`);
    await page.getByTestId("artifact-digest").waitFor();
    await page.getByLabel("Attach label").selectOption({ label: "qa" });
    await page.locator('.label-chip[data-label="qa"]').waitFor();
    await page.getByLabel("Attach label").selectOption({ label: "release" });
    await page.locator('.label-chip[data-label="release"]').waitFor();
    await shot(page, "33-artifact-labels");
    await page.locator('.label-chip[data-label="qa"]').getByRole("button", { name: "Detach label" }).click();
    await page.locator('.label-chip[data-label="qa"]').waitFor({ state: "detached" });
    await page.locator('.label-chip[data-label="release"]').waitFor();
  });

  await step("configuration: project switches are saved on the server", async () => {
    await page.goto(`${BASE}/projects/${PROJECT}/configuration`);
    const autoScan = page.locator('input[data-switch="auto_scan"]');
    await autoScan.waitFor();
    assert.equal(await autoScan.isChecked(), false);
    await autoScan.check();
    await page.locator('input[data-switch="prevent_vul"]').check();
    await page.getByLabel("Severity").selectOption("high");
    await page.getByRole("button", { name: "Save configuration" }).click();
    await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    await page.reload();
    await page.locator('input[data-switch="auto_scan"]:checked').waitFor();
    assert.equal(await page.getByLabel("Severity").inputValue(), "high");
    assert.equal(await page.locator('input[data-switch="public"]').isChecked(), false);
    await shot(page, "34-project-configuration");
  });

  await step("immutability: a rule protects tag v1 from deletion until it is removed", async () => {
    await page.goto(`${BASE}/projects/${PROJECT}/immutability`);
    await page.getByText("No immutability rules.").waitFor();
    await page.getByLabel("Tags pattern").fill("v1");
    await page.getByRole("button", { name: "+ Add rule" }).click();
    await page.locator('tr[data-rule="v1"]').waitFor();
    await shot(page, "37-immutability");
    await page.goto(`${REPO_PAGE}/-/${digest}`);
    await page.locator('tr[data-tag="v1"]').getByRole("button", { name: "Delete tag" }).click();
    await page.getByRole("alert").filter({ hasText: "is immutable" }).waitFor();
    assert.equal(crane(["digest", `${REGISTRY}/${PROJECT}/hello:v1`]), digest);
    await page.goto(`${BASE}/projects/${PROJECT}/immutability`);
    await page.locator('tr[data-rule="v1"]').getByRole("button", { name: "Delete rule" }).click();
    await page.getByText("No immutability rules.").waitFor();
  });

  await step("tag retention: a rule is added, a dry run reports each repository and deletes nothing, the rule goes", async () => {
    await page.goto(`${BASE}/projects/${PROJECT}/retention`);
    await page.getByText("No retention rules: nothing is deleted.").waitFor();
    await page.getByLabel("Rule template").selectOption("latestPushedK");
    await page.getByLabel("Count").fill("1");
    await page.getByRole("button", { name: "+ Add rule" }).click();
    const rule = page.locator('tr[data-rule="retain the most recently pushed 1 tags"]');
    await rule.waitFor();
    await page.getByRole("button", { name: "Dry run" }).click();
    // The run is a job of the embedded workers: refresh until it has finished.
    const done = page.locator('table[data-testid="retention-runs"] tr[data-status="Success"]');
    for (let i = 0; i < 60 && (await done.count()) === 0; i++) {
      await page.waitForTimeout(250);
      await page.getByRole("button", { name: "Refresh" }).click();
    }
    await done.first().getByRole("button", { name: "Repositories" }).click();
    const task = page.locator(`table[data-testid="retention-tasks"] tr[data-repository="${PROJECT}/hello"]`);
    await task.waitFor();
    await task.getByRole("button", { name: "Log" }).click();
    await page.locator('pre[data-testid="job-log"]').filter({ hasText: "RETAIN" }).waitFor();
    await shot(page, "38-retention");
    assert.equal(crane(["digest", `${REGISTRY}/${PROJECT}/hello:v1`]), digest, "a dry run deletes nothing");
    await rule.getByRole("button", { name: "Delete rule" }).click();
    await page.getByText("No retention rules: nothing is deleted.").waitFor();
  });

  await step("administration → configuration changes an editable setting", async () => {
    await page.goto(`${BASE}/admin/configuration`);
    const row = page.locator('tr[data-setting="robot_token_duration"]');
    await row.waitFor();
    assert.equal(await page.locator('tr[data-setting="auth_mode"]').count(), 0, "read-only items are left out");
    await row.getByLabel("robot_token_duration").fill("soon");
    await row.getByRole("button", { name: "Save" }).click();
    await row.getByRole("alert").filter({ hasText: "needs a number" }).waitFor();
    await row.getByLabel("robot_token_duration").fill("45");
    await row.getByRole("button", { name: "Save" }).click();
    await row.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    await page.reload();
    await page.locator('tr[data-setting="robot_token_duration"]').waitFor();
    assert.equal(await page.getByLabel("robot_token_duration").inputValue(), "45");
    await shot(page, "36-configuration");
  });

  await step("100,000 artifacts in one repository: the first and the last page load quickly", async () => {
    pushImage(`${PROJECT}/big`, "latest");
    const seeded = execFileSync(
      "python3",
      [path.join(__dirname, "seed-artifacts.py"), DB, `${PROJECT}/big`, String(BIG)],
      { encoding: "utf8" },
    );
    process.stdout.write(seeded);
    let started = Date.now();
    await page.goto(`${BASE}/projects/${PROJECT}/repositories/big`);
    await page.locator("tr[data-artifact]").first().waitFor();
    const firstPage = Date.now() - started;
    await page.getByTestId("page-range").filter({ hasText: `1–15 of ${BIG + 1}` }).waitFor();
    assert.match(await page.locator("tr[data-artifact]").first().innerText(), /latest/);
    assert.equal(await page.locator("tr[data-artifact]").count(), 15);
    await shot(page, "25-artifacts-100k-first-page");
    started = Date.now();
    await page.getByRole("button", { name: "Last »" }).click();
    const oldest = page.locator(`tr[data-artifact="sha256:${"0".repeat(64)}"]`);
    await oldest.waitFor();
    const lastPage = Date.now() - started;
    assert.match(await oldest.innerText(), /\bb0\b/);
    const lastFirst = Math.floor(BIG / 15) * 15 + 1;
    await page.getByTestId("page-range").filter({ hasText: `${lastFirst}–${BIG + 1} of ${BIG + 1}` }).waitFor();
    await shot(page, "26-artifacts-100k-last-page");
    console.log(`# ${BIG} artifacts: console first page ${firstPage} ms (navigation to rows), last page ${lastPage} ms (click to rows)`);
  });

  await step("create user alice under administration", async () => {
    await page.getByRole("link", { name: "Users" }).click();
    await page.locator('tr[data-user="admin"]').waitFor();
    await page.getByRole("button", { name: "+ New user" }).click();
    const dialog = page.getByRole("dialog", { name: "New user" });
    await dialog.getByLabel("Username").fill(MEMBER);
    await dialog.getByLabel("Email").fill(`${MEMBER}@example.com`);
    await dialog.getByLabel("Full name").fill("Alice Example");
    await dialog.getByLabel("Password", { exact: true }).fill(MEMBER_PASSWORD);
    await dialog.getByLabel("Confirm password").fill(MEMBER_PASSWORD);
    await shot(page, "07-create-user-dialog");
    await dialog.getByRole("button", { name: "Create" }).click();
    await dialog.waitFor({ state: "hidden" });
    await page.locator(`tr[data-user="${MEMBER}"]`).waitFor();
    await shot(page, "08-users");
  });

  await step("add alice as a guest, then make her a developer", async () => {
    await page.goto(`${BASE}/projects/${PROJECT}/members`);
    await page.locator('tr[data-member="admin"]').waitFor();
    await page.getByLabel("Username").fill(MEMBER);
    await page.getByRole("form", { name: "Add member" }).getByLabel("Role").selectOption("3");
    await page.getByRole("button", { name: "+ Add member" }).click();
    const row = page.locator(`tr[data-member="${MEMBER}"]`);
    await row.waitFor();
    assert.equal(await row.getByLabel("Role").inputValue(), "3");
    await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/members") && r.request().method() === "GET"),
      row.getByLabel("Role").selectOption("2"),
    ]);
    await page.locator(`tr[data-member="${MEMBER}"]`).getByLabel("Role").waitFor();
    assert.equal(await page.locator(`tr[data-member="${MEMBER}"]`).getByLabel("Role").inputValue(), "2");
    await shot(page, "09-members");
  });

  await step("adding an unknown user shows the server's message", async () => {
    await page.getByLabel("Username").fill("nobody-here");
    await page.getByRole("button", { name: "+ Add member" }).click();
    await page.getByRole("alert").filter({ hasText: "no such user" }).waitFor();
  });

  await step("a user group is created under administration and added as a member", async () => {
    await page.getByRole("link", { name: "Groups" }).click();
    await page.getByRole("heading", { name: "User groups" }).waitFor();
    await page.getByLabel("Group name").fill("devs");
    await page.getByRole("button", { name: "+ New group" }).click();
    await page.locator('tr[data-group="devs"]').waitFor();
    await shot(page, "35-groups");
    await page.goto(`${BASE}/projects/${PROJECT}/members`);
    await page.locator('tr[data-member="admin"]').waitFor();
    const form = page.getByRole("form", { name: "Add member" });
    await form.getByLabel("Member type").selectOption("group");
    await form.getByLabel("Username").fill("devs");
    await form.getByLabel("Role").selectOption("3");
    await page.getByRole("button", { name: "+ Add member" }).click();
    const row = page.locator('tr[data-member="devs"]');
    await row.waitFor();
    assert.match(await row.innerText(), /Group/);
    await row.getByRole("button", { name: "Remove" }).click();
    await row.waitFor({ state: "detached" });
  });

  await step("system info shows version and health", async () => {
    await page.getByRole("link", { name: "System info" }).click();
    await page.getByTestId("system-info").filter({ hasText: "berth-" }).waitFor();
    await page.getByTestId("health").filter({ hasText: "healthy" }).waitFor();
    await shot(page, "10-system-info");
  });

  await step("an unknown project shows the API's error, not a blank page", async () => {
    await page.goto(`${BASE}/projects/no-such-project`);
    await page.getByRole("alert").filter({ hasText: "project no-such-project not found" }).waitFor();
    await shot(page, "11-project-not-found");
  });

  await step("admin signs out", async () => {
    await signOut(page);
    await shot(page, "12-signed-out");
  });

  await step("alice sees her project as developer and no administration", async () => {
    await signIn(page, MEMBER, MEMBER_PASSWORD);
    const row = page.locator(`tr[data-project="${PROJECT}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), /Developer/);
    assert.equal(await page.getByRole("link", { name: "Users" }).count(), 0);
    assert.equal(await page.getByRole("link", { name: "System info" }).count(), 0);
    for (const admin of ["Groups", "System robots", "Audit logs", "Garbage collection", "Job service"]) {
      assert.equal(await page.getByRole("link", { name: admin }).count(), 0, admin);
    }
    await shot(page, "13-developer-projects");
  });

  await step("alice may view but not edit members", async () => {
    await page.goto(`${BASE}/projects/${PROJECT}/members`);
    await page.locator(`tr[data-member="${MEMBER}"]`).waitFor();
    assert.equal(await page.getByRole("button", { name: "+ Add member" }).count(), 0);
    assert.equal(await page.getByRole("button", { name: "Remove" }).count(), 0);
    assert.equal(await page.locator("tr[data-member] select").count(), 0);
    await shot(page, "14-developer-members");
  });

  await step("alice may add tags but not delete them, and sees robots without controls", async () => {
    await page.goto(`${REPO_PAGE}/-/${digest}`);
    await page.getByRole("button", { name: "+ Add tag" }).waitFor();
    await page.locator('tr[data-tag="v1"]').waitFor();
    assert.equal(await page.getByRole("button", { name: "Delete tag" }).count(), 0);
    assert.equal(await page.getByRole("button", { name: "Edit description" }).count(), 0);
    await shot(page, "24-developer-artifact");
    await page.goto(`${BASE}/projects/${PROJECT}/robots`);
    await page.locator(`tr[data-robot="${ROBOT}"]`).waitFor();
    const tabs = page.getByRole("navigation", { name: "Project sections" });
    assert.equal(await tabs.getByRole("link", { name: "Configuration" }).count(), 0);
    assert.equal(await page.getByRole("button", { name: "+ New robot account" }).count(), 0);
    assert.equal(await page.getByRole("button", { name: "Delete" }).count(), 0);
  });

  await step("alice cannot open administration pages", async () => {
    await page.goto(`${BASE}/admin/users`);
    await page.getByRole("alert").filter({ hasText: "Only system administrators" }).waitFor();
    assert.equal(await page.locator('tr[data-user="admin"]').count(), 0);
    await shot(page, "15-developer-admin-denied");
    for (const admin of ["groups", "labels", "robots", "gc", "jobs", "audit-logs", "configuration"]) {
      await page.goto(`${BASE}/admin/${admin}`);
      await page.getByRole("alert").filter({ hasText: "Only system administrators" }).waitFor();
    }
    await signOut(page);
  });

  await step("admin removes alice from the project", async () => {
    await signIn(page, "admin", ADMIN_PASSWORD);
    await page.goto(`${BASE}/projects/${PROJECT}/members`);
    await page.locator(`tr[data-member="${MEMBER}"]`).getByRole("button", { name: "Remove" }).click();
    await page.locator(`tr[data-member="${MEMBER}"]`).waitFor({ state: "detached" });
    await signOut(page);
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
