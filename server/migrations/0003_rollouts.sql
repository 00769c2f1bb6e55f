-- Safe rollouts (issue 10): a rollout per start, watched by the controller while it is
-- active; `version` grows with every decision, which is written only if the version is
-- still the one the decider read (compare-and-swap), so two replicas never both act.
CREATE TABLE rollouts (
    id TEXT PRIMARY KEY,
    environment TEXT NOT NULL,
    flag TEXT NOT NULL,
    -- The plan as started (JSON): stages, criteria, rollback.
    plan TEXT NOT NULL,
    canary_variant TEXT NOT NULL,
    control_variant TEXT NOT NULL,
    -- running | paused | awaiting_approval | completed | rolled_back | aborted | interrupted
    status TEXT NOT NULL,
    -- The current stage, from 0, and when it began (ms).
    stage BIGINT NOT NULL,
    stage_started_at BIGINT NOT NULL,
    -- 1 when a sample-ratio mismatch was recorded in this stage.
    hold_recorded BIGINT NOT NULL,
    started_by TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX rollouts_flag ON rollouts (environment, flag, started_at);
CREATE INDEX rollouts_status ON rollouts (status);

-- Every decision and action of a rollout, numbered from 1 without gaps: the deployment
-- history with the window's metrics that caused it.
CREATE TABLE rollout_events (
    rollout TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    -- started | advanced | awaiting_approval | hold | completed | rolled_back | paused |
    -- resumed | promoted | aborted | interrupted
    kind TEXT NOT NULL,
    -- The stage (from 0) and canary percentage after the event.
    stage BIGINT NOT NULL,
    percentage TEXT,
    status TEXT NOT NULL,
    -- The flag revision the event made, and its audit entry.
    revision BIGINT,
    audit_seq BIGINT NOT NULL,
    reason TEXT,
    -- The judgement that caused it (JSON): verdict, criterion, evidence, window.
    judgement TEXT,
    PRIMARY KEY (rollout, seq)
);
