// The README's quickstart is examples/quickstart.mjs verbatim, and running it prints the
// output the README shows.

import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const readme = readFileSync(join(packageDir, 'README.md'), 'utf8')
const examplePath = join(packageDir, 'examples', 'quickstart.mjs')

/** The fenced block of `language` that follows the first occurrence of `marker`. */
function blockAfter(marker, language) {
  const start = readme.indexOf(marker)
  assert.ok(start >= 0, `README has ${marker}`)
  const match = readme.slice(start).match(new RegExp('```' + language + '\\n([^]*?)```'))
  assert.ok(match, `README has a ${language} block after ${marker}`)
  return match[1]
}

test('the README shows examples/quickstart.mjs verbatim', () => {
  assert.equal(blockAfter('<!-- quickstart -->', 'js'), readFileSync(examplePath, 'utf8'))
})

test('running the quickstart prints the output the README shows', () => {
  const output = execFileSync(process.execPath, [examplePath], { cwd: packageDir, encoding: 'utf8' })
  assert.equal(output, blockAfter('<!-- quickstart output -->', 'text'))
  assert.match(output, /new-checkout: true/)
  assert.match(output, /still serving revision 42/)
})
