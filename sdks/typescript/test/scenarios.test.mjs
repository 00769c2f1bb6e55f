// The tests/sdk scenarios through the Node client (`pennon` under the `node` condition:
// pennon-node, node:http, node:crypto). Every scenario runs.
import { createClient } from 'pennon'
import { scenarioTests } from '../test-support/scenarios.mjs'

scenarioTests('node', createClient)
