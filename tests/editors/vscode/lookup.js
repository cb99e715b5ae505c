// Runs the extension's server lookup (src/server.ts, bundled with a stand-in for the vscode
// module) for the scenario given as JSON in argv[3], and prints the result as JSON. The scenario
// also gives findServer's options: `extensionPath` (where bundled/tool/launch.py is) and
// `fallbackPythons` (the system locations to try, instead of this machine's).
//   node lookup.js BUNDLE SCENARIO_JSON
const [bundle, scenario] = process.argv.slice(2);
globalThis.kerasfixTest = JSON.parse(scenario);
const { findServer } = require(bundle);
const { extensionPath, fallbackPythons } = globalThis.kerasfixTest;

findServer(undefined, { extensionPath, fallbackPythons }).then((lookup) => console.log(JSON.stringify(lookup)));
