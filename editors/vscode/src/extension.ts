// The kerasfix extension: runs the kerasfix language server (LSP over stdio; server.ts says which
// one, with which Python) for Python files and adds the palette commands. Diagnostics, hovers, quick fixes and `source.fixAll.kerasfix` (for
// `editor.codeActionsOnSave`) all come from the server through vscode-languageclient.

import * as vscode from "vscode";
import {
  ConfigurationParams,
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ResponseError,
  ServerOptions,
} from "vscode-languageclient/node";
import { findServer } from "./server";

// Commands the server implements (workspace/executeCommand).
const SERVER_FIX_ALL = "kerasfix.fixAll";
const SERVER_CHECK_WORKSPACE = "kerasfix.checkWorkspace";
// The settings the server reads, under the same camelCase names.
const RULE_SETTINGS = ["select", "ignore", "unsafeFixes", "targetBackends", "kerasVersion"] as const;
// Changing these changes which server runs: they need a restart, not a settings notification.
const SERVER_LOCATION_SETTINGS = ["kerasfix.path", "kerasfix.interpreter", "kerasfix.importStrategy", "python.defaultInterpreterPath"];

let output: vscode.OutputChannel;
let client: LanguageClient | undefined;
let pythonPath: string | undefined;
let extensionPath: string;
// Serializes start/stop so that a restart during a start never leaves two servers running.
let lifecycle: Promise<void> = Promise.resolve();

// Only the settings the user set are sent: the others stay unset so that the nearest
// pyproject.toml's [tool.kerasfix] applies, as on the command line.
function serverSettings(): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration("kerasfix");
  const chosen: Record<string, unknown> = {};
  for (const key of RULE_SETTINGS) {
    const inspected = config.inspect(key);
    const value = inspected?.workspaceFolderValue ?? inspected?.workspaceValue ?? inspected?.globalValue;
    const empty = value === undefined || value === "" || (Array.isArray(value) && value.length === 0);
    if (!empty) {
      chosen[key] = value;
    }
  }
  if (pythonPath) {
    chosen.pythonPath = pythonPath;
  }
  return chosen;
}

async function reportMissingServer(reason: string, pathSet: boolean): Promise<void> {
  output.appendLine(`The kerasfix server cannot start: ${reason}.`);
  const settings = "Open settings";
  const show = "Show output";
  const advice = pathSet
    ? "Set kerasfix.path to a kerasfix executable, or clear it to run the kerasfix bundled with the extension."
    : "Set kerasfix.interpreter to a Python that can run it, or kerasfix.path to a kerasfix executable.";
  const choice = await vscode.window.showErrorMessage(`kerasfix: ${reason}. ${advice}`, settings, show);
  if (choice === settings) {
    await vscode.commands.executeCommand("workbench.action.openSettings", "kerasfix.");
  } else if (choice === show) {
    output.show(true);
  }
}

async function startClient(): Promise<void> {
  const resource = vscode.workspace.workspaceFolders?.[0]?.uri;
  const lookup = await findServer(resource, { extensionPath });
  for (const note of lookup.notes) {
    output.appendLine(note);
  }
  if ("missing" in lookup) {
    const pathSet = Boolean(vscode.workspace.getConfiguration("kerasfix", resource).get<string>("path")?.trim());
    void reportMissingServer(lookup.missing, pathSet);
    return;
  }
  const server = lookup.found;
  pythonPath = server.python;
  output.appendLine(`Starting ${[server.command, ...server.args].join(" ")} (from ${server.origin})`);

  // No `transport`: TransportKind.stdio would add a `--stdio` argument; stdio is the default.
  const serverOptions: ServerOptions = { command: server.command, args: server.args };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "python" },
      { scheme: "untitled", language: "python" },
      // Python cells of Jupyter notebooks: the server syncs them as notebook documents.
      { scheme: "vscode-notebook-cell", language: "python" },
    ],
    outputChannel: output,
    traceOutputChannel: output,
    initializationOptions: () => ({ kerasfix: serverSettings() }),
    middleware: {
      workspace: {
        // The server pulls its section when a settings notification carries none.
        configuration: async (params: ConfigurationParams, token, next) => {
          const answers = await next(params, token);
          if (answers instanceof ResponseError) {
            return answers;
          }
          return params.items.map((item, index) => (item.section === "kerasfix" ? serverSettings() : answers[index]));
        },
      },
    },
  };
  const started = new LanguageClient("kerasfix", "kerasfix", serverOptions, clientOptions);
  client = started;
  try {
    await started.start();
  } catch (error) {
    output.appendLine(`The kerasfix server did not start: ${String(error)}`);
    void vscode.window.showErrorMessage("kerasfix: the server did not start. See the kerasfix output for why.", "Show output").then(
      (choice) => choice && output.show(true),
    );
  }
}

async function stopClient(): Promise<void> {
  const running = client;
  client = undefined;
  if (running) {
    try {
      await running.stop();
    } catch (error) {
      output.appendLine(`Stopping the server failed: ${String(error)}`);
    }
  }
}

function restart(): Promise<void> {
  lifecycle = lifecycle.then(async () => {
    await stopClient();
    await startClient();
  });
  return lifecycle;
}

function runningClient(): LanguageClient | undefined {
  if (client?.isRunning()) {
    return client;
  }
  void vscode.window.showWarningMessage("kerasfix: the server is not running.", "Show output").then(
    (choice) => choice && output.show(true),
  );
  return undefined;
}

async function fixAll(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== "python") {
    void vscode.window.showInformationMessage("kerasfix: open a Python file to fix.");
    return;
  }
  const running = runningClient();
  if (!running) {
    return;
  }
  const uri = running.code2ProtocolConverter.asUri(editor.document.uri);
  const result = await running.sendRequest(ExecuteCommandRequest.type, { command: SERVER_FIX_ALL, arguments: [{ uri }] });
  if (result && result.applied === false && result.reason) {
    void vscode.window.showInformationMessage(`kerasfix: ${result.reason}.`);
  }
}

async function checkWorkspace(): Promise<void> {
  const running = runningClient();
  if (!running) {
    return;
  }
  const result = await running.sendRequest(ExecuteCommandRequest.type, { command: SERVER_CHECK_WORKSPACE, arguments: [] });
  const files = Number(result?.files ?? 0);
  const findings = Number(result?.findings ?? 0);
  const showProblems = "Show problems";
  const choice = await vscode.window.showInformationMessage(
    `kerasfix: ${findings} finding${findings === 1 ? "" : "s"} in ${files} file${files === 1 ? "" : "s"}.`,
    showProblems,
  );
  if (choice === showProblems) {
    await vscode.commands.executeCommand("workbench.actions.view.problems");
  }
}

function settingsChanged(event: vscode.ConfigurationChangeEvent): void {
  if (SERVER_LOCATION_SETTINGS.some((section) => event.affectsConfiguration(section))) {
    void restart();
  } else if (event.affectsConfiguration("kerasfix") && client?.isRunning()) {
    void client.sendNotification(DidChangeConfigurationNotification.type, { settings: { kerasfix: serverSettings() } });
  }
}

// The Python extension's interpreter can run the server and names the project's environment:
// choosing another one restarts the server, as it does for the settings.
async function watchSelectedInterpreter(context: vscode.ExtensionContext): Promise<void> {
  const python = vscode.extensions.getExtension("ms-python.python");
  if (!python) {
    return;
  }
  try {
    const api = python.isActive ? python.exports : await python.activate();
    const changed = api?.environments?.onDidChangeActiveEnvironmentPath;
    if (typeof changed === "function") {
      context.subscriptions.push(changed(() => void restart()));
    }
  } catch {
    // An older or broken Python extension: its setting is watched instead.
  }
}

export function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel("kerasfix");
  extensionPath = context.extensionPath;
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand("kerasfix.editor.fixAll", fixAll),
    vscode.commands.registerCommand("kerasfix.editor.checkWorkspace", checkWorkspace),
    vscode.commands.registerCommand("kerasfix.editor.restart", restart),
    vscode.commands.registerCommand("kerasfix.editor.showOutput", () => output.show(true)),
    vscode.workspace.onDidChangeConfiguration(settingsChanged),
    // Trusting the workspace lets its settings and its interpreter choose the server.
    vscode.workspace.onDidGrantWorkspaceTrust(() => void restart()),
  );
  void watchSelectedInterpreter(context);
  lifecycle = lifecycle.then(startClient);
  return lifecycle;
}

export function deactivate(): Promise<void> {
  return lifecycle.then(stopClient);
}
