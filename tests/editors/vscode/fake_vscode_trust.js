// The parts of the `vscode` module that src/server.ts uses, with Workspace Trust as VS Code
// applies it: in an untrusted workspace, a setting that the extension's package.json lists in
// capabilities.untrustedWorkspaces.restrictedConfigurations is read from the user's settings
// only; every other setting still takes the workspace's value. The scenario comes from
// globalThis.kerasfixTest: {trusted, manifest, user: {section: {key: value}}, workspace: {...},
// workspaceFolder}.
const fs = require("fs");

const state = () => globalThis.kerasfixTest;

function restricted() {
  const manifest = JSON.parse(fs.readFileSync(state().manifest, "utf8"));
  return new Set(manifest.capabilities?.untrustedWorkspaces?.restrictedConfigurations ?? []);
}

module.exports = {
  workspace: {
    get isTrusted() {
      return state().trusted;
    },
    get workspaceFolders() {
      const folder = state().workspaceFolder;
      return folder ? [{ uri: { fsPath: folder } }] : undefined;
    },
    getConfiguration(section) {
      const user = (key) => (state().user[section] || {})[key];
      const workspace = (key) => (state().workspace[section] || {})[key];
      return {
        get(key) {
          if (!state().trusted && restricted().has(`${section}.${key}`)) {
            return user(key);
          }
          return workspace(key) ?? user(key);
        },
        inspect(key) {
          return { key: `${section}.${key}`, globalValue: user(key), workspaceValue: workspace(key) };
        },
      };
    },
  },
  extensions: { getExtension: () => undefined },
};
