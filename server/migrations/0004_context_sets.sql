-- The dashboard (issue 11): sets of evaluation contexts a change request's what-if runs
-- against, uploaded per environment; and whether an environment samples the contexts
-- of SDK evaluate calls (kept in memory, listed as the set `sampled`).
CREATE TABLE context_sets (
    environment TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    -- The contexts, a JSON array of objects.
    contexts TEXT NOT NULL,
    count BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (environment, name)
);

ALTER TABLE environments ADD COLUMN sample_contexts BIGINT NOT NULL DEFAULT 0;
