// A typed client of the admin API (/api/v1, see server/openapi.json and
// docs/control-plane.md). Every failure — an error object `{error: {code, message, …}}`,
// a bare HTTP status, a network error — becomes one ApiError. The token lives in
// sessionStorage: it is gone when the tab closes.

export type Role = "admin" | "developer" | "viewer" | "sdk";
export type FlagState = "off" | "shadow" | "canary" | "on" | "kill";
export const FLAG_STATES: readonly FlagState[] = ["off", "shadow", "canary", "on", "kill"];

export interface Me {
  principal: string;
  role: Role;
  tokenId: string;
  environment: string | null;
}

export interface Environment {
  key: string;
  protected: boolean;
  revision: number;
  sampleContexts?: boolean;
}

// ---- snapshot format v1 (docs/snapshot-format.md) ----

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | { inSegment: string }
  | { attribute: string; op: string; value?: Json; values?: Json[]; caseInsensitive?: boolean };

export interface Stage {
  percentage: number;
  duration?: string;
}
export interface Progressive {
  start: string;
  stages: Stage[];
  pausedAt?: string;
}
export interface Gradual {
  start: string;
  duration: string;
  from?: number;
  to?: number;
}
export interface Cohort {
  percentage?: number;
  progressive?: Progressive;
  gradual?: Gradual;
  bucketBy?: string;
  salt?: string;
}
export interface Rollout extends Cohort {
  variant: string;
  otherwise: string;
}
export type Serve =
  | { variant: string }
  | { rollout: Rollout }
  | { split: { variants: { variant: string; weight: number }[]; bucketBy?: string; salt?: string } };

export interface Rule {
  id: string;
  description?: string;
  when: Condition;
  serve: Serve;
}
export interface Target {
  variant: string;
  users?: string[];
  groups?: string[];
  tenants?: string[];
}
export interface Override {
  tenant: string;
  variant: string;
  expiresAt?: string;
  note?: string;
}
export interface FlagMetadata {
  description?: string;
  owner?: string;
  tags?: string[];
  createdAt?: string;
  removeBy?: string;
  [key: string]: Json | undefined;
}
export interface FlagDefinition {
  type: "boolean" | "string" | "number" | "object";
  variants: Record<string, Json>;
  state: FlagState;
  offVariant: string;
  fallthrough: Serve;
  overrides?: Override[];
  targets?: Target[];
  rules?: Rule[];
  prerequisites?: { flag: string; variants: string[] }[];
  window?: { from?: string; until?: string };
  canary?: Cohort;
  metadata?: FlagMetadata;
  [key: string]: unknown;
}
export interface SegmentDefinition {
  description?: string;
  included?: string[];
  excluded?: string[];
  when?: Condition;
}

/** Where a cohort stands now, as core evaluates it (`Snapshot::standing`). */
export interface CohortStanding {
  percentage: number;
  /** The progressive stage in force, from 0; null before the start or when not progressive. */
  stage: number | null;
  stages: number | null;
  paused: boolean;
  ramping: boolean;
}
export interface Standing {
  canary: CohortStanding | null;
  fallthrough: CohortStanding | null;
}

export interface EntryView<D> {
  key: string;
  revision: number;
  updatedAt: string;
  updatedBy: string;
  definition: D;
  /** Flags: where the canary gate and the fallthrough rollout stand now (from core). */
  standing?: Standing;
}
export type FlagEntry = EntryView<FlagDefinition>;
export type SegmentEntry = EntryView<SegmentDefinition>;

export interface Applied {
  environment: string;
  revision: number;
  action: string;
  auditSeq: number;
  flag?: string | null;
  segment?: string | null;
  definition?: unknown;
}

/** What a write returns: applied now, or a change request waiting for approval (202). */
export type WriteResult = { applied: Applied } | { pending: ChangeRequest };

export interface AuditEntry {
  seq: number;
  at: string;
  principal: string;
  requestId: string;
  action: string;
  environment?: string | null;
  flag?: string | null;
  segment?: string | null;
  revision?: number | null;
  before?: unknown;
  after?: unknown;
  detail?: unknown;
  reason?: string | null;
  prevHash: string;
  hash: string;
}

export interface Verification {
  ok: boolean;
  entries: number;
  headHash: string;
  firstBad?: unknown;
}

export interface ChangeRequest {
  id: string;
  environment: string;
  action: string;
  flag?: string | null;
  segment?: string | null;
  request: unknown;
  baseRevision: number;
  author: string;
  reason?: string | null;
  status: "pending" | "approved" | "rejected" | string;
  createdAt: string;
  decidedAt?: string | null;
  decidedBy?: string | null;
  decisionReason?: string | null;
  [key: string]: unknown;
}

export interface Evaluation {
  flag: string;
  value: Json;
  variant: string | null;
  reason: string;
  ruleId: string | null;
  stage: number | null;
  shadowVariant?: string | null;
  errorCode?: string | null;
  errorMessage?: string | null;
  revision: number;
}

export type RolloutStatus =
  | "running"
  | "paused"
  | "awaiting_approval"
  | "completed"
  | "rolled_back"
  | "aborted"
  | "interrupted";

export interface RolloutEvent {
  seq: number;
  at: string;
  actor: string;
  kind: string;
  stage: number;
  status: RolloutStatus;
  auditSeq: number;
  percentage?: number | null;
  reason?: string | null;
  judgement?: unknown;
}

export interface RolloutView {
  id: string;
  environment: string;
  flag: string;
  status: RolloutStatus;
  stage: number;
  stages: number;
  percentage: number;
  canaryVariant: string;
  controlVariant: string;
  plan: { stages: Stage[]; [key: string]: unknown };
  startedBy: string;
  startedAt: string;
  stageStartedAt: string;
  earliestAdvanceAt?: string;
  updatedAt: string;
  version: number;
  current?: Record<string, unknown>;
  events?: RolloutEvent[];
}

/** Contract 1b: a rollout's judgement over time. */
export interface CohortPoint {
  requests: number;
  errors: number;
  errorRate: number;
  p95: number | null;
}
export interface SeriesPoint {
  at: string;
  stage: number;
  percentage: number;
  verdict: "healthy" | "unhealthy" | "not_enough_data" | "hold";
  canary: CohortPoint;
  control: CohortPoint;
  thresholds: { errorRate: number | null; maxErrorRate: number | null; p95: number | null };
}
export interface RolloutSeries {
  flag: string;
  environment: string;
  id: string;
  state: string;
  startedAt: string;
  endedAt: string | null;
  stages: { index: number; percentage: number; startedAt: string | null; endedAt: string | null }[];
  points: SeriesPoint[];
  events: unknown[];
}

/** Contract 1c. */
export interface ContextSetSummary {
  name: string;
  source: "uploaded" | "sampled";
  count: number;
  updatedAt: string;
}
export interface WhatIfOutcome {
  value: Json;
  variant: string | null;
  reason?: string;
  ruleId?: string | null;
  stage?: number | null;
}
export interface WhatIf {
  changeRequest: string;
  environment: string;
  revision: number;
  flags: string[];
  contexts: number;
  flipped: number;
  summary: { flag: string; from: WhatIfOutcome; to: WhatIfOutcome; count: number }[];
  results: { index: number; targetingKey: string | null; flag: string; before: WhatIfOutcome; after: WhatIfOutcome }[];
}

// ---- errors ----

/** Any failed call: the server's error object, or what went wrong on the way. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId: string | undefined;
  readonly details: Record<string, unknown>;

  constructor(status: number, code: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.requestId = typeof details["requestId"] === "string" ? details["requestId"] : undefined;
    this.details = details;
  }

  /** The route does not exist on this server (an older server, or a feature turned off). */
  get unavailable(): boolean {
    return this.status === 404 && this.code === "not_available";
  }
}

/** Turns a failed response's status and body text into an ApiError. */
export function errorFrom(status: number, body: string, what: string): ApiError {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    const error = parsed?.error;
    if (error && typeof error.code === "string") {
      const { code, message, ...rest } = error as Record<string, unknown>;
      return new ApiError(status, code as string, typeof message === "string" ? message : String(code), rest);
    }
  } catch {
    // not JSON: fall through
  }
  if (status === 404) {
    return new ApiError(404, "not_available", `${what} is not available on this server (404): it may be older than this dashboard`);
  }
  return new ApiError(status, `http_${status}`, `${what} failed with HTTP ${status}`);
}

// ---- the token ----

const TOKEN_KEY = "pennon.token";

export function storedToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}
export function storeToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

// ---- the client ----

type Query = Record<string, string | number | boolean | null | undefined>;

const seg = encodeURIComponent;

function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export class Api {
  /** Called when the server says the token is unknown or revoked (401). */
  onUnauthorized: (() => void) | undefined;

  constructor(
    readonly token: string,
    readonly base: string = "",
  ) {}

  /** One call; resolves to the parsed body (`undefined` for an empty one) and the status. */
  async call<T>(method: string, path: string, body?: unknown, query?: Query): Promise<{ status: number; body: T }> {
    const url = `${this.base}/api/v1${withQuery(path, query)}`;
    const headers: Record<string, string> = { Authorization: `Bearer ${this.token}`, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body: body === undefined ? null : JSON.stringify(body) });
    } catch (error) {
      throw new ApiError(0, "network", `The server could not be reached (${method} ${path}): ${String(error)}`);
    }
    const text = await response.text();
    if (response.status === 401) this.onUnauthorized?.();
    if (!response.ok) throw errorFrom(response.status, text, `${method} ${path}`);
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  async get<T>(path: string, query?: Query): Promise<T> {
    return (await this.call<T>("GET", path, undefined, query)).body;
  }

  /** A write that a protected environment may turn into a change request (HTTP 202). */
  async write(method: string, path: string, body?: unknown, query?: Query): Promise<WriteResult> {
    const { status, body: result } = await this.call<Record<string, unknown>>(method, path, body, query);
    if (status === 202) {
      const pending = (result["changeRequest"] ?? result) as ChangeRequest;
      return { pending };
    }
    return { applied: result as unknown as Applied };
  }

  me = () => this.get<Me>("/me");
  environments = () => this.get<Environment[]>("/environments");
  updateEnvironment = (env: string, body: { protected?: boolean; sampleContexts?: boolean; reason?: string }) =>
    this.call<Environment>("PATCH", `/environments/${seg(env)}`, body).then((r) => r.body);

  flags = async (env: string) => (await this.get<{ flags: FlagEntry[] }>(`/environments/${seg(env)}/flags`)).flags;
  flag = (env: string, key: string) => this.get<FlagEntry>(`/environments/${seg(env)}/flags/${seg(key)}`);
  segments = async (env: string) =>
    (await this.get<{ segments: SegmentEntry[] }>(`/environments/${seg(env)}/segments`)).segments;
  stale = (env: string) => this.get<unknown[]>(`/environments/${seg(env)}/stale`);
  history = (env: string, key: string) => this.get<AuditEntry[]>(`/environments/${seg(env)}/flags/${seg(key)}/history`);

  setState = (env: string, key: string, body: { state: FlagState; reason: string; percentage?: number; baseRevision?: number }) =>
    this.write("POST", `/environments/${seg(env)}/flags/${seg(key)}/state`, body);
  kill = (env: string, key: string, reason: string) => this.write("POST", `/environments/${seg(env)}/flags/${seg(key)}/kill`, { reason });
  rollback = (env: string, key: string, body: { toRevision: number; reason: string; baseRevision?: number }) =>
    this.write("POST", `/environments/${seg(env)}/flags/${seg(key)}/rollback`, body);
  putOverride = (env: string, key: string, tenant: string, body: { variant: string; expiresAt?: string; reason?: string }) =>
    this.write("PUT", `/environments/${seg(env)}/flags/${seg(key)}/overrides/${seg(tenant)}`, body);
  deleteOverride = (env: string, key: string, tenant: string, reason?: string) =>
    this.write("DELETE", `/environments/${seg(env)}/flags/${seg(key)}/overrides/${seg(tenant)}`, undefined, { reason });
  evaluate = (env: string, key: string, context: unknown) =>
    this.call<Evaluation>("POST", `/environments/${seg(env)}/flags/${seg(key)}/evaluate`, { context }).then((r) => r.body);

  rollouts = (env: string) => this.get<RolloutView[]>(`/environments/${seg(env)}/rollouts`);
  rollout = (env: string, key: string) => this.get<RolloutView>(`/environments/${seg(env)}/rollouts/${seg(key)}`);
  rolloutSeries = (env: string, key: string, step?: number) =>
    this.get<RolloutSeries>(`/environments/${seg(env)}/rollouts/${seg(key)}/series`, { step });
  rolloutAction = (env: string, key: string, action: "pause" | "resume" | "promote" | "abort", body: Record<string, unknown>) =>
    this.call<RolloutView>("POST", `/environments/${seg(env)}/rollouts/${seg(key)}/${action}`, body).then((r) => r.body);
  experiment = (env: string, key: string, query?: Query) =>
    this.get<unknown>(`/environments/${seg(env)}/experiments/${seg(key)}`, query);

  changeRequests = (query?: { environment?: string; status?: string }) => this.get<ChangeRequest[]>("/change-requests", query);
  approve = (id: string, reason: string) =>
    this.call<Applied>("POST", `/change-requests/${seg(id)}/approve`, { reason }).then((r) => r.body);
  reject = (id: string, reason: string) =>
    this.call<ChangeRequest>("POST", `/change-requests/${seg(id)}/reject`, { reason }).then((r) => r.body);
  whatIf = (id: string, body: { contextSet: string } | { contexts: unknown[] }) =>
    this.call<WhatIf>("POST", `/change-requests/${seg(id)}/what-if`, body).then((r) => r.body);
  contextSets = (env: string) => this.get<ContextSetSummary[]>(`/environments/${seg(env)}/context-sets`);
  putContextSet = (env: string, name: string, contexts: unknown[], description?: string) =>
    this.call<ContextSetSummary>("PUT", `/environments/${seg(env)}/context-sets/${seg(name)}`, { contexts, ...(description ? { description } : {}) }).then((r) => r.body);

  audit = (query: Query) => this.get<AuditEntry[]>("/audit", query);
  verifyAudit = () => this.get<Verification>("/audit/verify");
}
