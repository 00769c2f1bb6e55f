//! The rollout controller: every interval it judges each active rollout's current stage
//! (core's judgement over the outcomes SDKs sent since the stage began) and acts as
//! [`crate::rollout::decide`] says. Every action — the controller's and a person's
//! (start, pause, resume, promote, abort) — is one transaction: the rollout's new state,
//! the flag's new revision (validated by core and published at once), its audit entry
//! with the evidence, and a numbered event. The rollout's `version` is compared and
//! swapped inside that transaction, so two replicas never both act on one look, and a
//! restarted controller carries on from the database.

use crate::app::App;
use crate::audit::{self, Record};
use crate::auth::{Caller, Role};
use crate::change::{self, Author, Mutation};
use crate::edit::FlagEdit;
use crate::error::{ApiError, ApiResult};
use crate::outcomes;
use crate::rollout::{self, Decision, Look, Plan, Position, RollbackKind, Status};
use crate::store::{Write, now_ms};
use axum::http::StatusCode;
use pennon_core::judgement::{self, Arm, Criteria, Window};
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::Row;
use std::collections::BTreeMap;
use std::time::Duration;
use utoipa::ToSchema;

/// The principal of the controller's changes in the audit trail.
pub const ACTOR: &str = "controller";

/// A rollout as stored.
#[derive(Debug, Clone)]
pub struct Rollout {
    /// Id.
    pub id: String,
    /// Environment.
    pub environment: String,
    /// Flag.
    pub flag: String,
    /// The plan.
    pub plan: Plan,
    /// The canary cohort's variant.
    pub canary_variant: String,
    /// The control cohort's variant.
    pub control_variant: String,
    /// Status, stage, and when the stage began.
    pub position: Position,
    /// Who started it.
    pub started_by: String,
    /// When (ms).
    pub started_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
    /// Grows by one with every event (compare-and-swap).
    pub version: i64,
}

fn from_row(row: &sqlx::any::AnyRow) -> ApiResult<Rollout> {
    let plan: String = row.try_get("plan")?;
    let status: String = row.try_get("status")?;
    let stage: i64 = row.try_get("stage")?;
    Ok(Rollout {
        id: row.try_get("id")?,
        environment: row.try_get("environment")?,
        flag: row.try_get("flag")?,
        plan: serde_json::from_str(&plan).map_err(|e| ApiError::internal(format!("stored plan: {e}")))?,
        canary_variant: row.try_get("canary_variant")?,
        control_variant: row.try_get("control_variant")?,
        position: Position {
            status: Status::parse(&status).ok_or_else(|| ApiError::internal(format!("stored status {status}")))?,
            stage: usize::try_from(stage).unwrap_or(0),
            stage_started_at: row.try_get("stage_started_at")?,
            hold_recorded: row.try_get::<i64, _>("hold_recorded")? != 0,
        },
        started_by: row.try_get("started_by")?,
        started_at: row.try_get("started_at")?,
        updated_at: row.try_get("updated_at")?,
        version: row.try_get("version")?,
    })
}

fn active_list() -> String {
    rollout::Status::ACTIVE.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ")
}

/// Every active rollout (all environments).
pub async fn active(app: &App) -> ApiResult<Vec<Rollout>> {
    let sql = format!("SELECT * FROM rollouts WHERE status IN ({}) ORDER BY started_at, id", active_list());
    let rows = sqlx::query(&sql).fetch_all(&app.store.pool).await?;
    rows.iter().map(from_row).collect()
}

/// The rollouts of an environment, newest first.
pub async fn list(app: &App, environment: &str) -> ApiResult<Vec<Rollout>> {
    let rows = sqlx::query("SELECT * FROM rollouts WHERE environment = $1 ORDER BY started_at DESC, id LIMIT 200")
        .bind(environment.to_string())
        .fetch_all(&app.store.pool)
        .await?;
    rows.iter().map(from_row).collect()
}

/// The newest rollout of a flag.
pub async fn newest(app: &App, environment: &str, flag: &str) -> ApiResult<Rollout> {
    let row = sqlx::query(
        "SELECT * FROM rollouts WHERE environment = $1 AND flag = $2 ORDER BY started_at DESC, id DESC LIMIT 1",
    )
    .bind(environment.to_string())
    .bind(flag.to_string())
    .fetch_optional(&app.store.pool)
    .await?
    .ok_or_else(|| ApiError::not_found(format!("flag '{flag}' has no rollout in {environment}")))?;
    from_row(&row)
}

/// One event of a rollout's history.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// From 1, without gaps.
    pub seq: i64,
    /// When (RFC 3339).
    pub at: String,
    /// Who: a token's name, or `controller`.
    pub actor: String,
    /// `started`, `advanced`, `awaiting_approval`, `hold`, `completed`, `rolled_back`,
    /// `paused`, `resumed`, `promoted`, `aborted` or `interrupted`.
    pub kind: String,
    /// The stage after the event (from 1).
    pub stage: i64,
    /// The canary percentage after the event (absent when the flag is on, off or killed).
    #[schema(value_type = Option<f64>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percentage: Option<Value>,
    /// The rollout's status after the event.
    pub status: String,
    /// The flag revision the event made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<i64>,
    /// Its audit entry.
    pub audit_seq: i64,
    /// Why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The judgement of the stage's window that caused it: verdict, criterion, the
    /// numbers per cohort, core's evidence, the window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judgement: Option<Value>,
}

/// The events of a rollout, oldest first.
pub async fn events(app: &App, id: &str) -> ApiResult<Vec<Event>> {
    let rows = sqlx::query("SELECT * FROM rollout_events WHERE rollout = $1 ORDER BY seq")
        .bind(id.to_string())
        .fetch_all(&app.store.pool)
        .await?;
    let parse = |text: Option<String>| text.and_then(|text| serde_json::from_str(&text).ok());
    rows.iter()
        .map(|row| {
            Ok(Event {
                seq: row.try_get("seq")?,
                at: crate::time::rfc3339(row.try_get("at")?),
                actor: row.try_get("actor")?,
                kind: row.try_get("kind")?,
                stage: row.try_get::<i64, _>("stage")? + 1,
                percentage: parse(row.try_get("percentage")?),
                status: row.try_get("status")?,
                revision: row.try_get("revision")?,
                audit_seq: row.try_get("audit_seq")?,
                reason: row.try_get("reason")?,
                judgement: parse(row.try_get("judgement")?),
            })
        })
        .collect()
}

/// What an action does to a rollout.
#[derive(Debug, Clone)]
pub struct Step {
    /// The event's kind.
    pub kind: &'static str,
    /// The status after it.
    pub status: Status,
    /// The stage after it.
    pub stage: usize,
    /// Whether a hold is recorded in the stage after it.
    pub hold_recorded: bool,
    /// The change to the flag, if any (one revision).
    pub edit: Option<FlagEdit>,
    /// The canary percentage after it (for the history).
    pub percentage: Option<Value>,
    /// Why.
    pub reason: String,
    /// The judgement that caused it.
    pub judgement: Option<Value>,
}

/// What came of an action.
pub enum Acted {
    /// Done: the rollout as it is now.
    Done(Rollout),
    /// Someone (another replica, a person) acted first: nothing was written.
    Lost,
    /// The flag had been changed outside the rollout: it is now `interrupted`.
    Interrupted(Rollout),
}

struct Who<'a> {
    caller: &'a Caller,
    request_id: String,
}

fn controller_caller() -> Caller {
    Caller { token_id: String::new(), principal: ACTOR.into(), role: Role::Admin, environment: None }
}

/// Writes the flag change (or, with none, an audit entry of its own), the event and the
/// rollout's new state inside `write`; returns the staged change to publish.
async fn record(
    app: &App,
    write: &mut Write,
    rollout: &Rollout,
    who: &Who<'_>,
    step: &Step,
    insert: bool,
) -> ApiResult<Option<change::Staged>> {
    let at = now_ms();
    let detail = json!({
        "rollout": rollout.id,
        "event": step.kind,
        "stage": step.stage + 1,
        "percentage": step.percentage,
        "judgement": step.judgement,
    });
    let author = Author { caller: who.caller, request_id: who.request_id.clone(), reason: Some(step.reason.clone()) };
    let (staged, revision, audit_seq) = match &step.edit {
        Some(edit) => {
            let mutation = Mutation::Edit { key: rollout.flag.clone(), edit: edit.clone() };
            let staged =
                change::stage_in(app, write, &rollout.environment, &author, &mutation, None, Some(detail)).await?;
            let (revision, seq) = (staged.applied.revision, staged.applied.audit_seq);
            (Some(staged), Some(revision), seq)
        }
        None => {
            let record = Record {
                principal: who.caller.principal.clone(),
                request_id: who.request_id.clone(),
                environment: Some(rollout.environment.clone()),
                action: format!("rollout_{}", step.kind),
                flag: Some(rollout.flag.clone()),
                reason: Some(step.reason.clone()),
                detail: Some(detail),
                ..Record::default()
            };
            (None, None, audit::append(write, record).await?)
        }
    };
    let stage = i64::try_from(step.stage).unwrap_or(0);
    let stage_started_at =
        if insert || step.stage != rollout.position.stage { at } else { rollout.position.stage_started_at };
    if insert {
        sqlx::query(
            "INSERT INTO rollouts (id, environment, flag, plan, canary_variant, control_variant, status, stage, \
             stage_started_at, hold_recorded, started_by, started_at, updated_at, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11, $11, 1)",
        )
        .bind(rollout.id.clone())
        .bind(rollout.environment.clone())
        .bind(rollout.flag.clone())
        .bind(serde_json::to_string(&rollout.plan).map_err(|e| ApiError::internal(e.to_string()))?)
        .bind(rollout.canary_variant.clone())
        .bind(rollout.control_variant.clone())
        .bind(step.status.as_str())
        .bind(stage)
        .bind(stage_started_at)
        .bind(who.caller.principal.clone())
        .bind(at)
        .execute(&mut *write.tx)
        .await?;
    } else {
        let hold = i64::from(step.hold_recorded && step.stage == rollout.position.stage);
        let updated = sqlx::query(
            "UPDATE rollouts SET status = $1, stage = $2, stage_started_at = $3, hold_recorded = $4, updated_at = $5, \
             version = version + 1 WHERE id = $6 AND version = $7",
        )
        .bind(step.status.as_str())
        .bind(stage)
        .bind(stage_started_at)
        .bind(hold)
        .bind(at)
        .bind(rollout.id.clone())
        .bind(rollout.version)
        .execute(&mut *write.tx)
        .await?;
        if updated.rows_affected() != 1 {
            return Err(ApiError::conflict("the rollout changed meanwhile; look again", None));
        }
    }
    let seq: i64 = sqlx::query("SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM rollout_events WHERE rollout = $1")
        .bind(rollout.id.clone())
        .fetch_one(&mut *write.tx)
        .await?
        .try_get("next")?;
    sqlx::query(
        "INSERT INTO rollout_events (rollout, seq, at, actor, kind, stage, percentage, status, revision, audit_seq, reason, judgement) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(rollout.id.clone())
    .bind(seq)
    .bind(at)
    .bind(who.caller.principal.clone())
    .bind(step.kind)
    .bind(stage)
    .bind(step.percentage.as_ref().map(Value::to_string))
    .bind(step.status.as_str())
    .bind(revision)
    .bind(audit_seq)
    .bind(step.reason.clone())
    .bind(step.judgement.as_ref().map(Value::to_string))
    .execute(&mut *write.tx)
    .await?;
    write.announce(crate::events::Event::new(
        "rollout",
        Some(&rollout.environment),
        json!({
            "environment": rollout.environment,
            "flag": rollout.flag,
            "id": rollout.id,
            "state": step.status.as_str(),
            "stage": step.stage + 1,
            "percentage": step.percentage,
            "sequence": seq,
            "at": crate::time::rfc3339(at),
        }),
    ));
    Ok(staged)
}

async fn finish(app: &App, write: Write, staged: Option<change::Staged>) -> ApiResult<()> {
    match staged {
        Some(staged) => change::publish_staged(app, write, staged).await.map(|_| ()),
        None => write.commit().await,
    }
}

async fn reread(app: &App, id: &str) -> ApiResult<Rollout> {
    let row =
        sqlx::query("SELECT * FROM rollouts WHERE id = $1").bind(id.to_string()).fetch_one(&app.store.pool).await?;
    from_row(&row)
}

/// Takes one step on a rollout (or, with `None`, only checks that nobody changed the
/// flag outside it), in one transaction, if the rollout is still at the version read.
async fn act(app: &App, rollout: &Rollout, who: &Who<'_>, step: Option<Step>) -> ApiResult<Acted> {
    let mut write = app.store.begin_write().await?;
    let version: Option<i64> = sqlx::query("SELECT version FROM rollouts WHERE id = $1")
        .bind(rollout.id.clone())
        .fetch_optional(&mut *write.tx)
        .await?
        .map(|row| row.try_get("version"))
        .transpose()?;
    if version != Some(rollout.version) {
        return Ok(Acted::Lost);
    }
    let document = change::current_document(app, &mut write, &rollout.environment).await?;
    let definition = document.flags.get(&rollout.flag).map(|entry| entry.definition.clone());
    let untouched =
        definition.as_ref().is_some_and(|d| rollout::flag_matches(&rollout.plan, rollout.position.stage, d));
    if !untouched {
        let found = match &definition {
            None => "the flag was deleted".to_string(),
            Some(d) => format!(
                "the flag is now in state {} with canary percentage {}",
                d.get("state").unwrap_or(&Value::Null),
                d.pointer("/canary/percentage").unwrap_or(&Value::Null)
            ),
        };
        let step = Step {
            kind: "interrupted",
            status: Status::Interrupted,
            stage: rollout.position.stage,
            hold_recorded: false,
            edit: None,
            percentage: None,
            reason: format!("changed outside the rollout: {found}; the controller leaves it alone"),
            judgement: None,
        };
        let staged = record(
            app,
            &mut write,
            rollout,
            &Who { caller: &controller_caller(), request_id: who.request_id.clone() },
            &step,
            false,
        )
        .await?;
        finish(app, write, staged).await?;
        return Ok(Acted::Interrupted(reread(app, &rollout.id).await?));
    }
    let Some(step) = step else { return Ok(Acted::Lost) };
    let staged = record(app, &mut write, rollout, who, &step, false).await?;
    finish(app, write, staged).await?;
    Ok(Acted::Done(reread(app, &rollout.id).await?))
}

/// The judgement of a rollout's current stage, over the outcomes since it began.
#[derive(Debug, Clone)]
pub struct Judged {
    /// What [`rollout::decide`] needs.
    pub look: Look,
    /// For people and the history: verdict, criterion, numbers per cohort, evidence, window.
    pub json: Value,
    /// Per cohort: requests, error rate, p95 (for the gauges).
    pub canary: Arm,
    /// The control cohort.
    pub control: Arm,
}

fn arm_json(variant: &str, arm: &Arm) -> Value {
    let rate = (arm.requests > 0).then(|| arm.error_rate());
    json!({
        "variant": variant,
        "exposures": arm.exposures,
        "requests": arm.requests,
        "errors": arm.errors,
        "errorRate": rate,
        "p50": arm.latency.quantile(0.5),
        "p95": arm.latency.quantile(0.95),
        "p99": arm.latency.quantile(0.99),
    })
}

/// The criteria of a stage: the plan's, with `alpha / number of stages` (windows of
/// different stages are disjoint) and the stage's own `maxErrorRate`.
pub fn stage_criteria(plan: &Plan, stage: usize) -> ApiResult<Criteria> {
    let mut criteria = Criteria::from_json(&plan.criteria)
        .map_err(|e| ApiError::unprocessable(format!("criteria: {e}")).with_path("/criteria"))?;
    #[allow(clippy::cast_precision_loss)]
    let stages = plan.stages.len().max(1) as f64;
    criteria.alpha /= stages;
    if let Some(max) = plan.stage(stage).max_error_rate {
        criteria.max_error_rate = Some(max);
    }
    Ok(criteria)
}

/// Judges a rollout's current stage as of `now`.
pub async fn judge(app: &App, rollout: &Rollout, now: i64) -> ApiResult<Judged> {
    let from = rollout.position.stage_started_at + rollout.plan.settle_ms();
    let arms = if from < now {
        outcomes::window(&app.store, &rollout.environment, &rollout.flag, from, now).await?
    } else {
        Default::default()
    };
    judge_arms(rollout, rollout.position.stage, &arms, from, now)
}

/// Judges stage `stage` of a rollout on the outcomes per variant of its window
/// `[from, now)`, as the controller does (the rollout series replays it for past instants).
pub fn judge_arms(
    rollout: &Rollout,
    stage: usize,
    arms: &BTreeMap<String, Arm>,
    from: i64,
    now: i64,
) -> ApiResult<Judged> {
    let canary = arms.get(&rollout.canary_variant).cloned().unwrap_or_default();
    let control = arms.get(&rollout.control_variant).cloned().unwrap_or_default();
    let criteria = stage_criteria(&rollout.plan, stage)?;
    let share = rollout.plan.stage(stage).percentage.as_f64().unwrap_or(0.0) / 100.0;
    let judgement = judgement::judge(&Window { canary: &canary, control: &control, canary_share: share }, &criteria);
    let json = json!({
        "verdict": judgement.verdict.as_str(),
        "criterion": judgement.criterion,
        "canary": arm_json(&rollout.canary_variant, &canary),
        "control": arm_json(&rollout.control_variant, &control),
        "evidence": judgement.evidence,
        "window": { "from": crate::time::rfc3339(from), "to": crate::time::rfc3339(now) },
    });
    let look =
        Look { verdict: judgement.verdict, canary_requests: canary.requests, control_requests: control.requests };
    Ok(Judged { look, json, canary, control })
}

fn percentage_of(plan: &Plan, stage: usize) -> Option<Value> {
    Some(Value::Number(plan.stage(stage).percentage.clone()))
}

fn rollback_percentage(kind: RollbackKind) -> Option<Value> {
    (kind == RollbackKind::Gradual).then(|| Value::from(0))
}

/// The step a decision takes, if any.
fn step_for(rollout: &Rollout, decision: Decision, judged: &Judged) -> Option<Step> {
    let at = &rollout.position;
    let plan = &rollout.plan;
    let judgement = Some(judged.json.clone());
    let criterion = judged.json.get("criterion").and_then(Value::as_str).unwrap_or("a criterion").to_string();
    let here = |kind, status, reason: String| Step {
        kind,
        status,
        stage: at.stage,
        hold_recorded: at.hold_recorded,
        edit: None,
        percentage: percentage_of(plan, at.stage),
        reason,
        judgement: judgement.clone(),
    };
    let stage_no = at.stage + 1;
    match decision {
        Decision::Wait => None,
        Decision::Hold => Some(Step {
            hold_recorded: true,
            ..here(
                "hold",
                at.status,
                format!("stage {stage_no}: sample-ratio mismatch; holding (no advance, no rollback)"),
            )
        }),
        Decision::AwaitApproval => Some(here(
            "awaiting_approval",
            Status::AwaitingApproval,
            format!("stage {stage_no} healthy; stage {} needs approval (pennon rollout promote)", stage_no + 1),
        )),
        Decision::Advance => Some(Step {
            stage: at.stage + 1,
            hold_recorded: false,
            edit: Some(plan.stage_edit(at.stage + 1)),
            percentage: percentage_of(plan, at.stage + 1),
            ..here(
                "advanced",
                Status::Running,
                format!("stage {stage_no} healthy: canary {} %", plan.stage(at.stage + 1).percentage),
            )
        }),
        Decision::Complete => Some(Step {
            edit: Some(rollout::complete_edit()),
            percentage: None,
            ..here("completed", Status::Completed, format!("stage {stage_no} (last) healthy: the flag is on"))
        }),
        Decision::RollBack => Some(Step {
            edit: Some(plan.rollback.edit()),
            percentage: rollback_percentage(plan.rollback),
            ..here(
                "rolled_back",
                Status::RolledBack,
                format!("stage {stage_no} unhealthy ({criterion}): {} rollback", plan.rollback.as_str()),
            )
        }),
    }
}

/// One look at every active rollout (a failure with one is logged and does not stop
/// the others). Returns how many actions were taken.
pub async fn tick(app: &App) -> ApiResult<usize> {
    let mut acted = 0;
    let rollouts = active(app).await?;
    // Rollouts that ended elsewhere (a person, another replica) since the last look.
    let watched: Vec<(String, String)> = rollouts.iter().map(|r| (r.environment.clone(), r.flag.clone())).collect();
    for (environment, flag) in app.metrics.active_canaries() {
        if !watched.contains(&(environment.clone(), flag.clone()))
            && let Ok(ended) = newest(app, &environment, &flag).await
        {
            app.metrics.observe_canary_end(&ended);
        }
    }
    for rollout in rollouts {
        match look_at(app, &rollout).await {
            Ok(true) => acted += 1,
            Ok(false) => {}
            Err(error) => tracing::warn!(environment = %rollout.environment, flag = %rollout.flag,
                "rollout controller: {error}"),
        }
    }
    Ok(acted)
}

/// Judges one rollout and takes the step its decision asks for; true when it acted.
async fn look_at(app: &App, rollout: &Rollout) -> ApiResult<bool> {
    let now = now_ms();
    let judged = judge(app, rollout, now).await?;
    app.metrics.observe_canary(rollout, &judged);
    let decision = rollout::decide(&rollout.plan, &rollout.position, &judged.look, now);
    let step = step_for(rollout, decision, &judged);
    // A flag changed by hand is found here without a transaction; `act` makes sure.
    let untouched = app.environments.slot(&rollout.environment).is_some_and(|slot| {
        slot.document
            .flags
            .get(&rollout.flag)
            .is_some_and(|e| rollout::flag_matches(&rollout.plan, rollout.position.stage, &e.definition))
    });
    if step.is_none() && untouched {
        return Ok(false);
    }
    let caller = controller_caller();
    let who = Who { caller: &caller, request_id: format!("controller-{}", uuid::Uuid::new_v4().simple()) };
    match act(app, rollout, &who, step).await? {
        Acted::Done(now) | Acted::Interrupted(now) => {
            tracing::info!(environment = %now.environment, flag = %now.flag, status = now.position.status.as_str(),
                stage = now.position.stage + 1, "rollout");
            if !now.position.status.is_active() {
                app.metrics.observe_canary_end(&now);
            }
            Ok(true)
        }
        Acted::Lost => Ok(false),
    }
}

/// Runs the controller until the server shuts down.
pub async fn run(app: App, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut shutdown = app.shutdown.subscribe();
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = shutdown.changed() => return,
        }
        if let Err(error) = tick(&app).await {
            tracing::warn!("rollout controller: {error}");
        }
    }
}

/// What a person asks of a rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Stop advancing (it is still judged and rolled back when unhealthy).
    Pause,
    /// Advance again.
    Resume,
    /// Advance one stage now (an approval where the next stage asks for one), or with
    /// `full` go to 100 % and complete (instant deploy).
    Promote {
        /// Skip to the end.
        full: bool,
    },
    /// Roll back now, as the plan says (or as given).
    Abort {
        /// Another rollback than the plan's.
        rollback: Option<RollbackKind>,
    },
}

fn protected_checks(app: &App, caller: &Caller, environment: &str, reason: Option<&str>, admin: bool) -> ApiResult<()> {
    let protected = app
        .environments
        .slot(environment)
        .map(|slot| slot.document.protected)
        .ok_or_else(|| ApiError::not_found(format!("no environment '{environment}'")))?;
    if protected {
        if reason.is_none_or(|reason| reason.trim().is_empty()) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "reason_required",
                format!("environment '{environment}' is protected: every change needs a reason"),
            ));
        }
        if admin {
            caller.require_admin()?;
        }
    }
    Ok(())
}

/// Starts a rollout of a flag: validates the plan, sets the first stage's canary
/// percentage (one revision) and records the start, in one transaction.
pub async fn start(
    app: &App,
    caller: &Caller,
    request_id: String,
    environment: &str,
    flag: &str,
    plan: Plan,
    reason: Option<String>,
) -> ApiResult<Rollout> {
    caller.require_writer()?;
    plan.validate().map_err(|e| ApiError::unprocessable(e.message).with_path(&e.path))?;
    stage_criteria(&plan, 0)?;
    protected_checks(app, caller, environment, reason.as_deref(), true)?;
    let mut write = app.store.begin_write().await?;
    let document = change::current_document(app, &mut write, environment).await?;
    let definition = document
        .flags
        .get(flag)
        .ok_or_else(|| ApiError::not_found(format!("no flag '{flag}' in {environment}")))?
        .definition
        .clone();
    let sql = format!("SELECT id FROM rollouts WHERE environment = $1 AND flag = $2 AND status IN ({})", active_list());
    if sqlx::query(&sql)
        .bind(environment.to_string())
        .bind(flag.to_string())
        .fetch_optional(&mut *write.tx)
        .await?
        .is_some()
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_exists",
            format!("flag '{flag}' has an active rollout in {environment}: pause, promote or abort it"),
        ));
    }
    let (canary_variant, control_variant) =
        rollout::cohorts(&plan, &definition).map_err(|e| ApiError::unprocessable(e.message).with_path(&e.path))?;
    let now = now_ms();
    let rollout = Rollout {
        id: uuid::Uuid::new_v4().simple().to_string(),
        environment: environment.to_string(),
        flag: flag.to_string(),
        canary_variant,
        control_variant,
        position: Position { status: Status::Running, stage: 0, stage_started_at: now, hold_recorded: false },
        started_by: caller.principal.clone(),
        started_at: now,
        updated_at: now,
        version: 1,
        plan,
    };
    let step = Step {
        kind: "started",
        status: Status::Running,
        stage: 0,
        hold_recorded: false,
        edit: Some(rollout.plan.stage_edit(0)),
        percentage: percentage_of(&rollout.plan, 0),
        reason: reason.unwrap_or_else(|| format!("rollout started: canary {} %", rollout.plan.stage(0).percentage)),
        judgement: None,
    };
    let who = Who { caller, request_id };
    let staged = record(app, &mut write, &rollout, &who, &step, true).await?;
    finish(app, write, staged).await?;
    reread(app, &rollout.id).await
}

/// Pause, resume, promote or abort the active rollout of a flag.
pub async fn command(
    app: &App,
    caller: &Caller,
    request_id: String,
    environment: &str,
    flag: &str,
    command: Command,
    reason: Option<String>,
) -> ApiResult<Rollout> {
    caller.require_writer()?;
    // Pausing and rolling back are the safe direction (like the kill switch): any
    // developer. Resuming and promoting widen exposure: an admin in a protected environment.
    let widens = matches!(command, Command::Resume | Command::Promote { .. });
    protected_checks(app, caller, environment, reason.as_deref(), widens)?;
    let rollout = newest(app, environment, flag).await?;
    let at = rollout.position;
    if !at.status.is_active() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("the rollout of '{flag}' is {} already", at.status.as_str()),
        ));
    }
    let plan = &rollout.plan;
    let base = Step {
        kind: "paused",
        status: at.status,
        stage: at.stage,
        hold_recorded: at.hold_recorded,
        edit: None,
        percentage: percentage_of(plan, at.stage),
        reason: String::new(),
        judgement: None,
    };
    let said = |default: String| reason.clone().unwrap_or(default);
    let step = match command {
        Command::Pause if at.status == Status::Paused => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("the rollout of '{flag}' is paused already"),
            ));
        }
        Command::Pause => Step { status: Status::Paused, reason: said("paused by hand".into()), ..base },
        Command::Resume if at.status != Status::Paused => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("the rollout of '{flag}' is not paused"),
            ));
        }
        Command::Resume => Step { kind: "resumed", status: Status::Running, reason: said("resumed".into()), ..base },
        Command::Promote { full } => {
            let last = at.stage + 1 >= plan.stages.len();
            if !full && !last && plan.stage(at.stage + 1).approval {
                let protected = app.environments.slot(environment).is_some_and(|slot| slot.document.protected);
                if protected && caller.principal == rollout.started_by {
                    return Err(ApiError::new(
                        StatusCode::FORBIDDEN,
                        "self_approval",
                        "the next stage needs approval by someone other than who started the rollout",
                    ));
                }
            }
            if full || last {
                Step {
                    kind: "promoted",
                    status: Status::Completed,
                    stage: plan.stages.len() - 1,
                    edit: Some(rollout::complete_edit()),
                    percentage: None,
                    reason: said(if full { "instant deploy: 100 %".into() } else { "promoted: the flag is on".into() }),
                    ..base
                }
            } else {
                let status = if at.status == Status::Paused { Status::Paused } else { Status::Running };
                Step {
                    kind: "promoted",
                    status,
                    stage: at.stage + 1,
                    hold_recorded: false,
                    edit: Some(plan.stage_edit(at.stage + 1)),
                    percentage: percentage_of(plan, at.stage + 1),
                    reason: said(format!(
                        "promoted to stage {}: canary {} %",
                        at.stage + 2,
                        plan.stage(at.stage + 1).percentage
                    )),
                    ..base
                }
            }
        }
        Command::Abort { rollback } => {
            let kind = rollback.unwrap_or(plan.rollback);
            Step {
                kind: "aborted",
                status: Status::Aborted,
                edit: Some(kind.edit()),
                percentage: rollback_percentage(kind),
                reason: said(format!("aborted by hand: {} rollback", kind.as_str())),
                ..base
            }
        }
    };
    let who = Who { caller, request_id };
    let now = now_ms();
    let judgement = judge(app, &rollout, now).await.ok().map(|judged| judged.json);
    match act(app, &rollout, &who, Some(Step { judgement, ..step })).await? {
        Acted::Done(rollout) => {
            if !rollout.position.status.is_active() {
                app.metrics.observe_canary_end(&rollout);
            }
            Ok(rollout)
        }
        Acted::Lost => Err(ApiError::conflict("the rollout changed meanwhile; look at it again", None)),
        Acted::Interrupted(_) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "interrupted",
            format!("'{flag}' was changed outside the rollout: the rollout is now interrupted"),
        )),
    }
}
