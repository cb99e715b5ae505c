// Where the kerasfix language server comes from, in the order users expect: the `kerasfix.path`
// setting, else kerasfix in the selected Python interpreter's environment, else `kerasfix` on PATH,
// else the virtual environment that the extension's install command creates (`managedVenv`).
//
// In an untrusted workspace (Restricted Mode) nothing of the workspace chooses the program: VS Code
// reads `kerasfix.path` and `kerasfix.interpreter` from the user's settings only (package.json lists
// them in restrictedConfigurations); the Python extension's interpreter and settings, which this
// extension cannot restrict, are not consulted; and `${workspaceFolder}` is not expanded.

import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as vscode from "vscode";

export interface ServerCommand {
  command: string;
  args: string[];
  // Shown in the output channel so that users can see which kerasfix runs.
  origin: string;
  // The interpreter the server should resolve signatures with, when one is known.
  python?: string;
}

const IS_WINDOWS = process.platform === "win32";
const SCRIPT = IS_WINDOWS ? "kerasfix.exe" : "kerasfix";
const VENV_BIN = IS_WINDOWS ? "Scripts" : "bin";

// The virtual environment the install command creates when no interpreter is selected: outside
// any workspace (so Restricted Mode may use it) and in the user's data folder, where it outlives
// updates of the extension.
export function managedVenv(): string {
  if (IS_WINDOWS) {
    return path.join(process.env.LOCALAPPDATA ?? path.join(os.homedir(), "AppData", "Local"), "kerasfix", "venv");
  }
  const data = process.env.XDG_DATA_HOME || path.join(os.homedir(), ".local", "share");
  return path.join(data, "kerasfix", "venv");
}

// The kerasfix wheel that the extension's package carries (built from the same checkout by
// `npm run wheel`), or undefined in a build without it.
export function bundledWheel(extensionPath: string): string | undefined {
  const folder = path.join(extensionPath, "bundled");
  let names: string[];
  try {
    names = fs.readdirSync(folder);
  } catch {
    return undefined;
  }
  const wheel = names.filter((name) => /^kerasfix-.+\.whl$/.test(name)).sort().pop();
  return wheel && path.join(folder, wheel);
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

function onPath(name: string): string | undefined {
  for (const folder of (process.env.PATH ?? "").split(path.delimiter)) {
    if (folder && isExecutable(path.join(folder, name))) {
      return path.join(folder, name);
    }
  }
  return undefined;
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

function hasKerasfix(python: string): boolean {
  const probe = spawnSync(python, ["-c", "import kerasfix.server"], { timeout: 15000, stdio: "ignore" });
  return probe.status === 0;
}

export type Lookup = { found: ServerCommand } | { missing: string; python?: string };

export async function findServer(resource: vscode.Uri | undefined): Promise<Lookup> {
  const settings = vscode.workspace.getConfiguration("kerasfix", resource);
  const configuredPath = settings.get<string>("path")?.trim();
  const configuredPython = settings.get<string>("interpreter")?.trim();
  const chosenPython = configuredPython ? settingProgram("kerasfix.interpreter", configuredPython) : undefined;
  if (chosenPython && "refused" in chosenPython) {
    return { missing: chosenPython.refused };
  }
  const python = chosenPython ? chosenPython.value : await selectedInterpreter(resource);

  if (configuredPath) {
    const chosen = settingProgram("kerasfix.path", configuredPath);
    if ("refused" in chosen) {
      return { missing: chosen.refused, python };
    }
    const executable = chosen.value;
    if (!isExecutable(executable)) {
      return { missing: `kerasfix.path is set to ${executable}, which is not an executable file`, python };
    }
    return { found: { command: executable, args: ["server"], origin: "the kerasfix.path setting", python } };
  }

  if (python) {
    const beside = path.join(path.dirname(python), SCRIPT);
    if (isExecutable(beside)) {
      return { found: { command: beside, args: ["server"], origin: `the environment of ${python}`, python } };
    }
    if (hasKerasfix(python)) {
      return {
        found: { command: python, args: ["-m", "kerasfix.server", "server"], origin: `the environment of ${python}`, python },
      };
    }
  }

  const fromPath = onPath(SCRIPT);
  if (fromPath) {
    return { found: { command: fromPath, args: ["server"], origin: "PATH", python } };
  }
  const venv = managedVenv();
  const installed = path.join(venv, VENV_BIN, SCRIPT);
  if (isExecutable(installed)) {
    return { found: { command: installed, args: ["server"], origin: venv, python } };
  }
  const missing = python
    ? `kerasfix is installed neither in the environment of ${python} nor on PATH`
    : "kerasfix is not on PATH";
  return { missing, python };
}

// One shell word: POSIX shells and PowerShell both take a single-quoted string literally; only
// the quote itself needs escaping, differently in each.
function quote(word: string): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) {
    return word;
  }
  return IS_WINDOWS ? `'${word.replaceAll("'", "''")}'` : `'${word.replaceAll("'", "'\\''")}'`;
}

// The terminal command that installs the bundled wheel: into the selected interpreter's
// environment when there is one, else into a new virtual environment where findServer looks.
// (The system Python of Debian and others refuses `pip install` outside a virtual environment.)
export function installCommand(python: string | undefined, wheel: string): string {
  // PowerShell runs a quoted program only after its call operator.
  const run = (words: string[]) => (IS_WINDOWS ? "& " : "") + words.map(quote).join(" ");
  if (python) {
    return run([python, "-m", "pip", "install", wheel]);
  }
  const venv = managedVenv();
  const create = run([IS_WINDOWS ? "python" : "python3", "-m", "venv", venv]);
  const install = run([path.join(venv, VENV_BIN, IS_WINDOWS ? "python.exe" : "python"), "-m", "pip", "install", wheel]);
  return IS_WINDOWS ? `${create}; if ($?) { ${install} }` : `${create} && ${install}`;
}
