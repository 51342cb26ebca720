// Batch runner for the perimeter proof: one Node process per synth evaluates every request.
//
// Reads {"node_modules": "<dir>", "version": "<pin>", "simulations": [{"id": "...", "simulation": {...}}]}
// on stdin and writes {"simulator": {"name", "version"}, "results": [{"id", "result", "grants", "denials",
// "ignoredContextKeys"} or {"id", "errors"}]} on stdout, in input order.
//
// The simulator, @cloud-copilot/iam-simulate, is AGPL-3.0: it is not part of this Apache-2.0 package.
// This script (the package's own) loads it at run time from the node_modules directory the caller
// names (installed by `make setup` from package-lock.json) and talks to Python only through JSON over
// pipes. Large batches (many environments) are split over worker threads of this one process.
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'

const PACKAGE = '@cloud-copilot/iam-simulate'
//: Requests per thread below which a second thread costs more (loading the simulator) than it saves.
//: Measured on 2 cores with the reference app's 346 requests: one thread 1.24-1.36 s, two 1.06-1.08 s.
const PER_THREAD = 150

function fail(message, code) {
  process.stderr.write(`simulate.mjs: ${message}\n`)
  process.exit(code)
}

async function evaluate(entry, simulations) {
  const sim = await import(entry)
  const results = []
  for (const { id, simulation } of simulations) {
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
  return results
}

if (!isMainThread) {
  parentPort.postMessage(await evaluate(workerData.entry, workerData.simulations))
} else {
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
  const entry = pathToFileURL(join(packageDir, packageJson.exports['.'].import)).href
  const simulations = input.simulations
  const threads = Math.max(1, Math.min(availableParallelism(), Math.floor(simulations.length / PER_THREAD)))
  let results
  if (threads === 1) {
    results = await evaluate(entry, simulations)
  } else {
    const size = Math.ceil(simulations.length / threads)
    const chunks = Array.from({ length: threads }, (_, i) => simulations.slice(i * size, (i + 1) * size))
    const parts = await Promise.all(chunks.map((chunk) => new Promise((resolve, reject) => {
      const worker = new Worker(new URL(import.meta.url), { workerData: { entry, simulations: chunk } })
      worker.once('message', resolve)
      worker.once('error', reject)
      worker.once('exit', (code) => code === 0 || reject(new Error(`worker thread exited with ${code}`)))
    })))
    results = parts.flat()
  }
  process.stdout.write(JSON.stringify({ simulator: { name: PACKAGE, version: packageJson.version }, results }))
}
