// Runs the extension's server lookup (src/server.ts, bundled with a stand-in for the vscode
// module) for the scenario given as JSON in argv[3], and prints the result as JSON with
// `install`: the install command for the scenario's wheel and the interpreter the lookup names.
//   node install_lookup.js BUNDLE SCENARIO_JSON
const [bundle, scenario] = process.argv.slice(2);
globalThis.kerasfixTest = JSON.parse(scenario);
const { findServer, installCommand } = require(bundle);

findServer(undefined).then((lookup) => {
  const python = "found" in lookup ? lookup.found.python : lookup.python;
  console.log(JSON.stringify({ ...lookup, install: installCommand(python, globalThis.kerasfixTest.wheel) }));
});
