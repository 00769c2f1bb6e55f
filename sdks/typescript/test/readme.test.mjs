// Runs every example of the README (readme-examples.mjs) in a scratch directory inside this
// package, so that `pennon` resolves, and compares its output with the README's, when it
// gives one.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { readmeExamples, runExample } from './readme-examples.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const examples = readmeExamples()

test('the README has examples', () => assert.ok(examples.length >= 8, `${examples.length} examples`))

for (const [index, example] of examples.entries()) {
  test(`README example ${index + 1} (${example.lang})`, () => {
    const dir = mkdtempSync(join(here, '..', '.readme-'))
    try {
      const run = runExample(dir, example)
      assert.equal(run.status, 0, `example ${index + 1} failed:\n${run.stdout}\n${run.stderr}`)
      if (example.output !== undefined) assert.equal(run.stdout, example.output)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
}
