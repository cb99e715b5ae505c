// The few parts of the `vscode` module that src/server.ts uses, answering from
// globalThis.kerasfixTest (settings by section, workspace folder), for the server lookup test.
const state = () => globalThis.kerasfixTest;

module.exports = {
  workspace: {
    get workspaceFolders() {
      const folder = state().workspaceFolder;
      return folder ? [{ uri: { fsPath: folder } }] : undefined;
    },
    getConfiguration(section) {
      return { get: (key) => (state().settings[section] || {})[key] };
    },
  },
  extensions: { getExtension: () => undefined },
};
