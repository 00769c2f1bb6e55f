// One TypeScript program written against "the Pennon JS API". `check.sh` compiles it
// twice: once resolving `pennon-js` to pennon-node's index.d.ts, once to pennon-wasm's.
// Both packages must accept the same code, so their contracts cannot drift apart.
import {
  ArgumentError,
  Engine,
  ERROR_CLASSES,
  PennonError,
  SnapshotError,
  errorClass,
  errorCodes,
  type Context,
  type EngineApi,
  type ErrorCode,
  type EvaluationResult,
  type LoadWarning,
  type Reason,
  type TypeName,
} from 'pennon-js'

const engine: EngineApi = new Engine()
const loaded = new Engine('{"schemaVersion":1,"revision":1,"flags":{}}')
const created: Promise<EngineApi> = Engine.create({ schemaVersion: 1, revision: 1, flags: {} })
const asyncWarnings: Promise<LoadWarning[]> = loaded.loadAsync('{}')
const warnings: LoadWarning[] = engine.load('{}')
const fromObject: LoadWarning[] = loaded.load({ schemaVersion: 1, revision: 2, flags: {} })
const context: Context = { targetingKey: 'u-1', groups: ['qa'], age: 3 }
const enabled: boolean = engine.getBoolean('flag', context, false)
const withNow: boolean = engine.getBoolean('flag', null, false, Date.now())
const label: string = engine.getString('flag', context, 'x', null)
const limit: number = engine.getNumber('flag', undefined, 1)
const limits: { rps: number } = engine.getObject('flag', context, { rps: 1 })
const nothing: { rps: number } | null = engine.getObject<{ rps: number } | null>('flag', context, null)
const typed: EvaluationResult<boolean> = engine.evaluate('flag', context, { type: 'boolean', default: false })
const untyped: EvaluationResult = engine.evaluate('flag')
const anyType: TypeName = 'any'
const viaAny: EvaluationResult = engine.evaluate('flag', {}, { type: anyType, now: 1.5 })
const reason: Reason = typed.reason
const all: Record<string, EvaluationResult> = engine.evaluateAll(context)
const allEmpty: Record<string, EvaluationResult> = engine.evaluateAll()
const changed: string[] = loaded.changedFlags(new Engine())
const changedApi: string[] = engine.changedFlags(engine)
const revision: number | null = engine.revision
const error: PennonError = new SnapshotError('invalid_json: m', 'invalid_json', null)
const withPath = new ArgumentError('m', 'invalid_argument', '/flags/x', { cause: error })
const code: ErrorCode = error.code
const path: string | null = withPath.path
const codes: ErrorCode[] = errorCodes()
const className: string = ERROR_CLASSES.invalid_context
const cls: typeof PennonError | undefined = errorClass('internal')
// @ts-expect-error: a flag key is a string
engine.evaluate(42, context)
// @ts-expect-error: unknown type name
engine.evaluate('flag', context, { type: 'bool' })
// @ts-expect-error: a boolean getter's default is a boolean
engine.getBoolean('flag', context, 'yes')
// @ts-expect-error: not an error code
const wrong: ErrorCode = 'no_such_code'

export {
  all, allEmpty, asyncWarnings, changed, changedApi, created, className, cls, code, codes, enabled, fromObject, label, limit,
  limits, nothing, path,
  reason, revision, typed, untyped, viaAny, warnings, withNow, wrong,
}
