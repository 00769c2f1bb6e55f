-- Pennon control plane, schema 2: outcomes that SDKs send (`POST /sdk/v1/metrics`), the
-- input of rollout judgement and experiment results. Portable between SQLite and
-- PostgreSQL like schema 1.

-- Counts per environment, flag, variant and second (the server's clock, seconds since the
-- Unix epoch), summed over every batch received in that second. `latency` is the merged
-- latency sketch in its wire form, `[[bucket, count], …]`.
CREATE TABLE outcomes (
    environment TEXT NOT NULL,
    flag TEXT NOT NULL,
    variant TEXT NOT NULL,
    second BIGINT NOT NULL,
    exposures BIGINT NOT NULL,
    requests BIGINT NOT NULL,
    errors BIGINT NOT NULL,
    conversions BIGINT NOT NULL,
    latency TEXT NOT NULL,
    PRIMARY KEY (environment, flag, variant, second)
);
CREATE INDEX outcomes_second ON outcomes (second);

-- The ids of the batches stored (within the retention period): a batch sent again is
-- recognised and adds nothing.
CREATE TABLE outcome_batches (
    id TEXT PRIMARY KEY,
    received_at BIGINT NOT NULL
);
CREATE INDEX outcome_batches_received ON outcome_batches (received_at);
