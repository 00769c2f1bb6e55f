//! Runs simulated rollouts: creates each flag, starts its rollout, turns its traffic on,
//! and follows the controller's decisions until each rollout completes, is rolled back
//! or misses its deadline. Also the restart scenario: SIGKILL of `pennon serve` while
//! rollouts are midway, and a restart on the same database.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::rollout::{self, Phase, Plan, Status};
use crate::server::Server;
use crate::traffic::{Lane, Traffic, now_ms};

/// How rollouts are run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The plan of every rollout.
    pub plan: Plan,
    /// Rollouts running at once.
    pub concurrency: usize,
    /// A rollout neither completed nor rolled back after this is "unfinished".
    pub deadline: Duration,
    /// How often the rollouts' states are read.
    pub poll: Duration,
    /// How long to wait, after the last rollback, for the clients to see it.
    pub propagation_grace: Duration,
}

/// How one rollout ended.
pub struct Finished {
    /// Its lane (traffic counts, rollback seen by clients).
    pub lane: Arc<Lane>,
    /// When it started (the server's start decision, else the simulator's clock).
    pub started_ms: i64,
    /// Its final state and decisions.
    pub status: Status,
    /// The flag's audit history: (audit seq, revision) of each change.
    pub history: Vec<(u64, Option<u64>)>,
}

impl Finished {
    /// The time of the rollback decision, if rolled back.
    pub fn rollback_ms(&self) -> Option<i64> {
        (self.status.phase == Phase::RolledBack).then(|| self.status.first("rolled_back").map(|d| d.at_ms)).flatten()
    }

    /// What is wrong with its history (empty: nothing).
    pub fn gaps(&self, plan: &Plan) -> Vec<String> {
        rollout::gaps(&self.status, plan, Some(&self.history))
    }
}

struct Running {
    lane: Arc<Lane>,
    started_ms: i64,
    started: Instant,
}

/// Creates the flag and starts the rollout of one lane; its traffic starts at once.
fn launch(server: &Server, traffic: &Traffic, lane: Arc<Lane>, plan: &Plan) -> Result<Running, String> {
    server.put_flag(&lane.key, &rollout::flag_definition())?;
    traffic.add(lane.clone());
    let started_ms = now_ms();
    rollout::start(server, &lane.key, plan)?;
    lane.activate();
    Ok(Running { lane, started_ms, started: Instant::now() })
}

fn finish(server: &Server, running: Running) -> Result<Finished, String> {
    running.lane.deactivate();
    let status = rollout::status(server, &running.lane.key)?;
    let history = rollout::flag_history(server, &running.lane.key)?;
    let started_ms = status.first("started").map(|d| d.at_ms).filter(|&at| at > 0).unwrap_or(running.started_ms);
    Ok(Finished { lane: running.lane, started_ms, status, history })
}

/// Runs `lanes`, at most `settings.concurrency` at once, until every one has ended.
pub fn run(
    server: &Server,
    traffic: &Traffic,
    lanes: Vec<Arc<Lane>>,
    settings: &Settings,
) -> Result<Vec<Finished>, String> {
    let mut pending: VecDeque<Arc<Lane>> = lanes.into();
    let mut running: HashMap<String, Running> = HashMap::new();
    let mut finished = Vec::new();
    let began = Instant::now();
    while !pending.is_empty() || !running.is_empty() {
        while running.len() < settings.concurrency
            && let Some(lane) = pending.pop_front()
        {
            let started = launch(server, traffic, lane, &settings.plan)?;
            running.insert(started.lane.key.clone(), started);
        }
        std::thread::sleep(settings.poll);
        let phases: HashMap<String, Phase> = rollout::phases(server)?.into_iter().collect();
        let done: Vec<String> = running
            .iter()
            .filter(|(key, run)| {
                phases.get(*key).is_some_and(Phase::is_final) || run.started.elapsed() >= settings.deadline
            })
            .map(|(key, _)| key.clone())
            .collect();
        for key in done {
            let Some(run) = running.remove(&key) else { continue };
            let end = finish(server, run)?;
            if !end.status.phase.is_final() {
                rollout::abort(server, &key)?;
            }
            finished.push(end);
        }
        eprintln!(
            "  {:>5.1} s: {} finished, {} running, {} waiting",
            began.elapsed().as_secs_f64(),
            finished.len(),
            running.len(),
            pending.len()
        );
    }
    wait_for_propagation(&finished, settings.propagation_grace);
    Ok(finished)
}

/// Waits until every rolled-back rollout was seen by every client, or `grace` passed.
fn wait_for_propagation(finished: &[Finished], grace: Duration) {
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        let missing =
            finished.iter().filter(|f| f.rollback_ms().is_some() && f.lane.rollback_seen().is_empty()).count();
        if missing == 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The restart scenario's result.
pub struct Restart {
    /// The rollouts, each with the stage it was in when the server was killed.
    pub rollouts: Vec<(Finished, Option<u64>)>,
    /// How long the server was down (ms).
    pub downtime_ms: i64,
}

/// Starts `lanes` together, kills the server with SIGKILL once every one has advanced
/// past its first stage (and none has finished), restarts it on the same database after
/// `downtime`, and follows the rollouts to their end.
pub fn restart(
    server: &mut Server,
    traffic: &Traffic,
    lanes: Vec<Arc<Lane>>,
    settings: &Settings,
    downtime: Duration,
) -> Result<Restart, String> {
    let mut running = Vec::new();
    for lane in lanes {
        running.push(launch(server, traffic, lane, &settings.plan)?);
    }
    // Wait until every rollout is midway: past stage 0 and not finished.
    let midway = Instant::now() + settings.deadline;
    let stages = loop {
        std::thread::sleep(settings.poll);
        let statuses = running.iter().map(|r| rollout::status(server, &r.lane.key)).collect::<Result<Vec<_>, _>>()?;
        if let Some(ended) = statuses.iter().position(|s| s.phase.is_final()) {
            let key = running.get(ended).map(|r| r.lane.key.clone()).unwrap_or_default();
            return Err(format!(
                "restart scenario: {key} ended before the kill ({:?}): stages too short",
                statuses.get(ended).map(|s| &s.phase)
            ));
        }
        // Stages count from 1: at 2 or more, a decision to advance has been taken.
        if statuses.iter().all(|s| s.stage().is_some_and(|stage| stage >= 2)) {
            break statuses.iter().map(Status::stage).collect::<Vec<_>>();
        }
        if Instant::now() >= midway {
            return Err("restart scenario: the rollouts did not advance past their first stage in time".to_owned());
        }
    };
    let killed = now_ms();
    server.kill();
    std::thread::sleep(downtime);
    server.restart().map_err(|e| format!("restart: {e}"))?;
    let downtime_ms = now_ms() - killed;
    let mut rollouts = Vec::new();
    let deadline = Instant::now() + settings.deadline;
    let mut left: Vec<(Running, Option<u64>)> = running.into_iter().zip(stages).collect();
    while !left.is_empty() {
        std::thread::sleep(settings.poll);
        let phases: HashMap<String, Phase> = rollout::phases(server)?.into_iter().collect();
        let timed_out = Instant::now() >= deadline;
        let (done, rest): (Vec<_>, Vec<_>) =
            left.into_iter().partition(|(r, _)| timed_out || phases.get(&r.lane.key).is_some_and(Phase::is_final));
        left = rest;
        for (run, stage) in done {
            let key = run.lane.key.clone();
            let end = finish(server, run)?;
            if !end.status.phase.is_final() {
                rollout::abort(server, &key)?;
            }
            rollouts.push((end, stage));
        }
    }
    Ok(Restart { rollouts, downtime_ms })
}
