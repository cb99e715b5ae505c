// Drives a real VS Code (code-server) in Debian's Chromium through playwright-core, as a user
// would: opens the Keras 2 file from the explorer, waits for the kerasfix squiggle, opens the
// Problems panel, shows the hover, opens the quick fix menu (Ctrl+.) on the line whose fix is
// unsafe and applies it (Enter), applies a safe quick fix the same way, runs "kerasfix: Fix all" from the
// command palette, and takes a screenshot of the end state. Prints one JSON line with what it
// saw; the pytest test checks it.
//
// Last, it sets `kerasfix.path` to a file that does not exist in the Settings editor and waits
// for the notification that says the server cannot start.
//
//   node drive.js URL FILE_NAME SCREENSHOT UNSAFE_LINE UNSAFE_COLUMN
//   (PLAYWRIGHT_CORE: the playwright-core folder; the line and column are 1-based)
// SCREENSHOT is the fixed end state; "-hover" before ".png" shows the findings and the hover,
// "-unsafe-fix" the quick fix menu on the unsafe finding, "-missing-server" the notification.

const { chromium } = require(process.env.PLAYWRIGHT_CORE);

const [url, fileName, screenshot, unsafeLine, unsafeColumn] = process.argv.slice(2);
const seen = { steps: [], quickFixAttempts: [] };
const STEP_TIMEOUT = 30000;

async function editorText(page) {
  // Monaco renders only the visible lines: the whole file fits on the screen.
  return page.evaluate(() =>
    Array.from(document.querySelectorAll(".editor-group-container.active .view-lines .view-line"))
      .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
      .map((line) => line.textContent.replace(/\u00a0/g, " ")),
  );
}

async function waitForText(page, predicate, what) {
  const deadline = Date.now() + STEP_TIMEOUT;
  while (Date.now() < deadline) {
    const lines = await editorText(page);
    if (predicate(lines.join("\n"))) {
      return lines;
    }
    await page.waitForTimeout(200);
  }
  throw new Error(`timed out waiting for ${what}; editor shows: ${JSON.stringify(await editorText(page))}`);
}

async function goTo(page, line, column) {
  await page.keyboard.press("Control+P");
  await page.locator(".quick-input-widget input").waitFor({ state: "visible", timeout: STEP_TIMEOUT });
  await page.keyboard.type(`:${line}:${column}`);
  await page.keyboard.press("Enter");
  await page.locator(".quick-input-widget").waitFor({ state: "hidden", timeout: STEP_TIMEOUT });
}

// Ctrl+. and the quick fix menu with `text` in it. The menu is asked for again if the editor
// answers "No code actions available": a request can reach the server while it is still busy
// with the edit or hover before it. The attempts are reported.
async function openQuickFixMenu(page, text) {
  const deadline = Date.now() + STEP_TIMEOUT;
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press("Control+.");
    const menu = page.locator(".action-widget:visible", { hasText: text });
    const none = page.locator(".monaco-editor-overlaymessage:visible", { hasText: "No code actions available" });
    await menu.or(none).first().waitFor({ timeout: Math.max(deadline - Date.now(), 1) });
    if (await menu.isVisible()) {
      seen.quickFixAttempts.push(attempt);
      return menu;
    }
    await page.keyboard.press("Escape");
    await none.waitFor({ state: "hidden", timeout: Math.max(deadline - Date.now(), 1) });
  }
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(STEP_TIMEOUT);
  try {
    await page.goto(url);
    await page.locator(".monaco-workbench .explorer-folders-view").waitFor({ timeout: 60000 });
    seen.steps.push("workbench");

    await page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${fileName}"]`).click();
    await page.locator(".editor-group-container.active .view-lines").waitFor();
    await waitForText(page, (text) => text.includes("lr=0.001"), "the file's text");
    seen.steps.push("opened");

    await page.locator(".editor-group-container.active .squiggly-warning").first().waitFor();
    seen.squiggles = await page.locator(".editor-group-container.active .squiggly-warning").count();
    seen.steps.push("squiggle");

    await page.keyboard.press("Control+Shift+M");
    const problem = page.locator(".markers-panel .monaco-list-row", { hasText: "KER601" }).first();
    await problem.waitFor();
    seen.problems = await page.locator(".markers-panel .monaco-list-row").allTextContents();
    seen.steps.push("problems");

    await page.locator(".editor-group-container.active .view-lines").click();
    await goTo(page, 4, 32);
    await page.keyboard.press("Control+K");
    await page.keyboard.press("Control+I");
    const hover = page.locator(".monaco-hover:visible", { hasText: "KER601" }).first();
    await hover.waitFor();
    seen.hover = await hover.textContent();
    seen.steps.push("hover");
    // Squiggles, the Problems rows and the hover, before anything is fixed.
    await page.screenshot({ path: screenshot.replace(/\.png$/, "-hover.png") });
    await page.keyboard.press("Escape");

    // The unsafe fix is offered in the menu, labelled as such, though not in Fix all; applied
    // first, while the other findings are untouched.
    await goTo(page, unsafeLine, unsafeColumn);
    const unsafeMenu = await openQuickFixMenu(page, "Unsafe fix");
    seen.unsafeQuickFixes = await unsafeMenu.locator(".monaco-list-row").allTextContents();
    await page.screenshot({ path: screenshot.replace(/\.png$/, "-unsafe-fix.png") });
    await page.keyboard.press("Enter");
    seen.afterUnsafeFix = await waitForText(page, (text) => text.includes("saved_model.keras"), "the unsafe fix");
    seen.steps.push("unsafe fix");

    await goTo(page, 4, 32);
    const menu = await openQuickFixMenu(page, "KER601");
    seen.quickFixes = await menu.locator(".monaco-list-row").allTextContents();
    await page.keyboard.press("Enter");
    seen.afterQuickFix = await waitForText(page, (text) => text.includes("learning_rate=0.001"), "the quick fix");
    seen.steps.push("quick fix");

    await page.keyboard.press("F1");
    await page.locator(".quick-input-widget input").waitFor({ state: "visible" });
    await page.keyboard.type("kerasfix: Fix all");
    await page.locator(".quick-input-widget .monaco-list-row", { hasText: "kerasfix: Fix all" }).first().waitFor();
    await page.keyboard.press("Enter");
    seen.afterFixAll = await waitForText(page, (text) => text.includes("learning_rate=0.1"), "fix all");
    seen.steps.push("fix all");

    // The squiggles go once the server has re-linted the fixed text.
    await page.locator(".editor-group-container.active .squiggly-warning").first().waitFor({ state: "detached" });
    seen.steps.push("clean");
    await page.screenshot({ path: screenshot });

    // The Settings editor, as a user sets kerasfix.path (code-server does not watch the file).
    await page.keyboard.press("F1");
    await page.locator(".quick-input-widget input").waitFor({ state: "visible" });
    await page.keyboard.type("Preferences: Open User Settings");
    await page.locator(".quick-input-widget .monaco-list-row", { hasText: "Preferences: Open User Settings", hasNotText: "JSON" }).first().waitFor();
    await page.keyboard.press("Enter");
    await page.locator(".settings-editor").waitFor();
    await page.keyboard.type("kerasfix.path");
    // A machine-scoped setting: in code-server (a remote window) it is on the Remote tab.
    await page.locator(".settings-editor .settings-tabs-widget .action-label", { hasText: "Remote" }).click();
    const pathInput = page.locator(".settings-editor .setting-item-contents", { hasText: "Path to a" }).locator("input").first();
    await pathInput.fill("/nonexistent/bin/kerasfix");
    const notification = page.locator(".notification-toast", { hasText: "kerasfix.path is set to" }).first();
    await notification.waitFor();
    seen.missingServer = await notification.locator(".notification-list-item-message").textContent();
    seen.steps.push("missing server");
    await page.screenshot({ path: screenshot.replace(/\.png$/, "-missing-server.png") });
  } catch (error) {
    seen.error = String(error && error.stack ? error.stack : error);
    await page.screenshot({ path: screenshot.replace(/\.png$/, "-failure.png") }).catch(() => {});
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(seen));
}

main().catch((error) => {
  console.log(JSON.stringify({ ...seen, error: String(error) }));
  process.exitCode = 1;
});
