// Batch runner for the perimeter proof: one Node process per synth evaluates every request.
//
// Reads {"node_modules": "<dir>", "simulations": [{"id": "...", "simulation": {...}}]} on stdin and
// writes {"simulator": {"name", "version"}, "results": [{"id", "result", "grants", "denials",
// "ignoredContextKeys", "errors"}]} on stdout.
//
// The simulator, @cloud-copilot/iam-simulate, is AGPL-3.0: it is not part of this Apache-2.0 package.
// This script loads it at run time from the node_modules directory the caller names (installed by
// `make setup` from package-lock.json) and talks to Python only through JSON over pipes.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const PACKAGE = '@cloud-copilot/iam-simulate'

function fail(message, code) {
  process.stderr.write(`simulate.mjs: ${message}\n`)
  process.exit(code)
}

const input = JSON.parse(readFileSync(0, 'utf8'))
const packageDir = join(input.node_modules, PACKAGE)
let packageJson
try {
  packageJson = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'))
} catch (err) {
  fail(`${PACKAGE} is not installed under ${input.node_modules} (${err.code || err.message})`, 4)
}
if (input.version && packageJson.version !== input.version) {
  fail(`${PACKAGE} ${packageJson.version} is installed, ${input.version} is pinned in package.json`, 4)
}
const sim = await import(pathToFileURL(join(packageDir, packageJson.exports['.'].import)).href)

const results = []
for (const { id, simulation } of input.simulations) {
  let response
  try {
    response = await sim.runSimulation(simulation, { simulationMode: 'Strict' })
  } catch (err) {
    results.push({ id, errors: { message: String(err && err.stack ? err.stack : err) } })
    continue
  }
  if (response.resultType === 'error') {
    results.push({ id, errors: response.errors })
    continue
  }
  const single = response.resultType === 'single' ? response.result : response.results[0]
  if (!single) {
    results.push({ id, errors: { message: `no simulation was run for ${simulation.request.resource.resource}` } })
    continue
  }
  const analysis = single.analysis
  results.push({
    id,
    result: response.overallResult,
    grants: analysis.result === 'Allowed' ? sim.getGrantReasons(analysis) : [],
    denials: analysis.result === 'Allowed' ? [] : sim.getDenialReasons(analysis),
    ignoredContextKeys: single.ignoredContextKeys || [],
  })
}
process.stdout.write(JSON.stringify({ simulator: { name: PACKAGE, version: packageJson.version }, results }))
