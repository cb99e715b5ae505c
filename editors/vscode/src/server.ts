// Which kerasfix language server runs, and with which Python, as Python tool extensions
// (black-formatter, ruff-vscode) decide it:
//
// - `kerasfix.path`, when set, is the program to run (`<path> server`).
// - Otherwise a Python interpreter runs the extension's launcher (bundled/tool/launch.py), which
//   imports kerasfix as `kerasfix.importStrategy` says: `useBundled` (the default) the kerasfix
//   and dependencies bundled in the extension (bundled/libs), `fromEnvironment` the
//   interpreter's own kerasfix, else the bundled one.
// - The interpreter: `kerasfix.interpreter` if set (then only it), else the Python extension's
//   selected interpreter, else `python3`/`python` on PATH, else the usual system locations (the
//   extension host's PATH can miss the user's: VS Code takes it from a login shell). Each is
//   asked first (`launch.py <strategy> --probe`) whether it can run the server: the bundle's
//   compiled modules (LibCST's parser) are built for one Python version and platform, and an
//   interpreter that cannot load them is passed over with the reason logged.
//
// In an untrusted workspace (Restricted Mode) nothing of the workspace chooses the program: VS Code
// reads `kerasfix.path` and `kerasfix.interpreter` from the user's settings only (package.json lists
// them in restrictedConfigurations); the Python extension's interpreter and settings, which this
// extension cannot restrict, are not consulted; and `${workspaceFolder}` is not expanded.

import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as vscode from "vscode";

export interface ServerCommand {
  command: string;
  args: string[];
  // Shown in the output channel so that users can see which kerasfix runs.
  origin: string;
  // The interpreter of the user's project, whose installed Keras the server reads.
  python?: string;
}

// `notes`: what the lookup passed over and why, for the output channel.
export type Lookup = { found: ServerCommand; notes: string[] } | { missing: string; python?: string; notes: string[] };

export type ImportStrategy = "useBundled" | "fromEnvironment";

export interface LookupOptions {
  extensionPath: string;
  // Where to look for a Python when neither a setting nor PATH names one.
  fallbackPythons?: string[];
}

const IS_WINDOWS = process.platform === "win32";
const PYTHON_NAMES = IS_WINDOWS ? ["python.exe", "python3.exe"] : ["python3", "python"];
export const FALLBACK_PYTHONS = IS_WINDOWS
  ? []
  : ["/usr/local/bin/python3", "/usr/bin/python3", "/opt/homebrew/bin/python3", "/opt/local/bin/python3"];
// A probe imports nothing heavy; the limit is for a machine under load.
const PROBE_TIMEOUT_MS = 20000;

export function launcher(extensionPath: string): string {
  return path.join(extensionPath, "bundled", "tool", "launch.py");
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, IS_WINDOWS ? fs.constants.F_OK : fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function expandHome(file: string): string {
  return file.startsWith("~/") ? path.join(process.env.HOME ?? "~", file.slice(2)) : file;
}

const WORKSPACE_FOLDER = "${workspaceFolder}";

// `${workspaceFolder}` is what users write in settings.json; resolve it against the first folder.
function resolveVariables(value: string): string {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const resolved = folder ? value.replaceAll(WORKSPACE_FOLDER, folder) : value;
  return expandHome(resolved);
}

type Setting = { value: string } | { refused: string };

// The program a setting names, or why it is not used: in an untrusted workspace, a path into the
// workspace folder lets the workspace's files choose what runs.
function settingProgram(name: string, value: string): Setting {
  if (!vscode.workspace.isTrusted && value.includes(WORKSPACE_FOLDER)) {
    return { refused: `${name} names a program in the workspace folder, which is not trusted` };
  }
  return { value: resolveVariables(value) };
}

function onPath(names: string[]): string[] {
  const found: string[] = [];
  for (const folder of (process.env.PATH ?? "").split(path.delimiter)) {
    for (const name of names) {
      if (folder && isExecutable(path.join(folder, name))) {
        found.push(path.join(folder, name));
      }
    }
  }
  return found;
}

// The Python extension's interpreter for the workspace, when it is installed and the workspace
// is trusted (it may have picked a virtual environment inside the workspace).
async function selectedInterpreter(resource: vscode.Uri | undefined): Promise<string | undefined> {
  if (!vscode.workspace.isTrusted) {
    return undefined;
  }
  const python = vscode.extensions.getExtension("ms-python.python");
  if (python) {
    try {
      const api = python.isActive ? python.exports : await python.activate();
      const environment = api?.environments?.getActiveEnvironmentPath?.(resource);
      if (environment?.path) {
        return environment.path as string;
      }
    } catch {
      // An older or broken Python extension: fall back to its setting.
    }
  }
  const configured = vscode.workspace.getConfiguration("python", resource).get<string>("defaultInterpreterPath");
  return configured && configured !== "python" ? resolveVariables(configured) : undefined;
}

// What the launcher says about running the server with `python` (see launch.py).
type Probe = { origin: string; kerasfix: string; location: string; python: string; note: string } | { error: string };

function probe(python: string, script: string, strategy: ImportStrategy): Promise<Probe> {
  return new Promise((resolve) => {
    execFile(python, [script, strategy, "--probe"], { timeout: PROBE_TIMEOUT_MS, windowsHide: true }, (error, stdout, stderr) => {
      const last = stdout.trim().split("\n").pop() ?? "";
      try {
        const answer = JSON.parse(last);
        if (typeof answer === "object" && answer && ("error" in answer || "origin" in answer)) {
          resolve(answer as Probe);
          return;
        }
      } catch {
        // Not the launcher's answer: the interpreter failed before it ran.
      }
      const why = (stderr.trim().split("\n").pop() || error?.message || "no answer").trim();
      resolve({ error: `${python} cannot run the launcher: ${why}` });
    });
  });
}

function strategySetting(settings: vscode.WorkspaceConfiguration): ImportStrategy {
  return settings.get<string>("importStrategy") === "fromEnvironment" ? "fromEnvironment" : "useBundled";
}

export async function findServer(resource: vscode.Uri | undefined, options: LookupOptions): Promise<Lookup> {
  const settings = vscode.workspace.getConfiguration("kerasfix", resource);
  const notes: string[] = [];
  const configuredPath = settings.get<string>("path")?.trim();
  const configuredPython = settings.get<string>("interpreter")?.trim();
  const chosenPython = configuredPython ? settingProgram("kerasfix.interpreter", configuredPython) : undefined;
  if (chosenPython && "refused" in chosenPython) {
    return { missing: chosenPython.refused, notes };
  }
  const python = chosenPython ? chosenPython.value : await selectedInterpreter(resource);

  if (configuredPath) {
    const chosen = settingProgram("kerasfix.path", configuredPath);
    if ("refused" in chosen) {
      return { missing: chosen.refused, python, notes };
    }
    const executable = chosen.value;
    if (!isExecutable(executable)) {
      return { missing: `kerasfix.path is set to ${executable}, which is not an executable file`, python, notes };
    }
    return { found: { command: executable, args: ["server"], origin: "the kerasfix.path setting", python }, notes };
  }

  const strategy = strategySetting(settings);
  const script = launcher(options.extensionPath);
  const candidates = chosenPython
    ? [chosenPython.value]
    : [...(python ? [python] : []), ...onPath(PYTHON_NAMES), ...(options.fallbackPythons ?? FALLBACK_PYTHONS)];
  const tried = new Set<string>();
  for (const candidate of candidates) {
    if (!isExecutable(candidate)) {
      continue;
    }
    // `python` and `python3` in one folder are one interpreter; the folder tells environments
    // apart (a virtual environment's python links to its base interpreter).
    const identity = path.join(path.dirname(candidate), path.basename(fs.realpathSync(candidate)));
    if (tried.has(identity)) {
      continue;
    }
    tried.add(identity);
    const answer = await probe(candidate, script, strategy);
    if ("error" in answer) {
      notes.push(answer.error);
      if (chosenPython) {
        return { missing: `${answer.error} (the kerasfix.interpreter setting)`, python, notes };
      }
      continue;
    }
    if (answer.note) {
      notes.push(answer.note);
    }
    const which = answer.origin === "bundled" ? "the kerasfix bundled with the extension" : `the environment of ${answer.python}`;
    return {
      found: { command: candidate, args: [script, strategy], origin: `kerasfix ${answer.kerasfix} from ${which}, ${answer.location}`, python },
      notes,
    };
  }
  if (chosenPython) {
    return { missing: `kerasfix.interpreter is set to ${chosenPython.value}, which is not an executable file`, python, notes };
  }
  const missing = tried.size
    ? "no Python interpreter found here can run kerasfix"
    : "no Python interpreter found: kerasfix needs Python 3.10 or newer";
  return { missing, python, notes };
}
