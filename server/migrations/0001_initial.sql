-- Pennon control plane, schema 1. Portable between SQLite and PostgreSQL: integers are
-- BIGINT, times are milliseconds since the Unix epoch, JSON is TEXT.

-- One row per environment; `revision` is the revision of its newest snapshot.
CREATE TABLE environments (
    key TEXT PRIMARY KEY,
    protected BIGINT NOT NULL,
    revision BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

-- One row per published revision of an environment's snapshot.
CREATE TABLE revisions (
    environment TEXT NOT NULL,
    revision BIGINT NOT NULL,
    at BIGINT NOT NULL,
    principal TEXT NOT NULL,
    audit_seq BIGINT NOT NULL,
    PRIMARY KEY (environment, revision)
);

-- Every version of every flag ('flag') and segment ('segment'): the definition in
-- snapshot format v1, or NULL where the entry was deleted at that revision.
CREATE TABLE entries (
    environment TEXT NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    revision BIGINT NOT NULL,
    definition TEXT,
    at BIGINT NOT NULL,
    principal TEXT NOT NULL,
    PRIMARY KEY (environment, kind, key, revision)
);

-- The entries in force now (a copy of the newest non-deleted version of each).
CREATE TABLE current_entries (
    environment TEXT NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    revision BIGINT NOT NULL,
    definition TEXT NOT NULL,
    at BIGINT NOT NULL,
    principal TEXT NOT NULL,
    PRIMARY KEY (environment, kind, key)
);

-- The audit trail: append-only, each entry carries the hash of the one before.
CREATE TABLE audit (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    principal TEXT NOT NULL,
    request_id TEXT NOT NULL,
    environment TEXT,
    action TEXT NOT NULL,
    flag TEXT,
    segment TEXT,
    revision BIGINT,
    before_json TEXT,
    after_json TEXT,
    reason TEXT,
    detail TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_flag ON audit (environment, flag, seq);
CREATE INDEX audit_principal ON audit (principal, seq);

-- The head of the chain. Every write locks this row first, so writes (across replicas
-- too) are serialised and the chain has no forks.
CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- API tokens and SDK keys, stored as SHA-256 of the secret.
CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    environment TEXT,
    hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    revoked_at BIGINT
);

-- Changes waiting for a second person in a protected environment.
CREATE TABLE change_requests (
    id TEXT PRIMARY KEY,
    environment TEXT NOT NULL,
    action TEXT NOT NULL,
    flag TEXT,
    segment TEXT,
    request TEXT NOT NULL,
    base_revision BIGINT NOT NULL,
    author TEXT NOT NULL,
    reason TEXT,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    decided_by TEXT,
    decided_at BIGINT,
    decision_reason TEXT
);

-- Server settings: the signing key.
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
