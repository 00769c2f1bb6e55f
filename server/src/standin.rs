//! TEMPORARY stand-ins for `pennon_core::judgement::{judge, …}` (branch `judge`) and
//! `crate::outcomes::window` (branch `ingest`), with the shapes of the issue-10 contracts.
//! Removed when those branches are merged; nothing else may depend on what is here
//! beyond the contract.
#![allow(missing_docs, clippy::cast_precision_loss)]

pub mod judgement {
    pub use pennon_core::judgement::sketch::LatencySketch;
    use serde_json::{Value, json};

    #[derive(Debug, Clone, Default)]
    pub struct Arm {
        pub exposures: u64,
        pub requests: u64,
        pub errors: u64,
        pub latency: LatencySketch,
    }

    pub struct Window<'a> {
        pub canary: &'a Arm,
        pub control: &'a Arm,
        pub canary_share: f64,
    }

    #[derive(Debug, Clone)]
    pub struct Criteria {
        pub alpha: f64,
        pub min_requests: u64,
        pub error_rate_tolerance: f64,
        pub max_error_rate: Option<f64>,
        pub guard_min_requests: u64,
        pub srm_p_value: f64,
    }

    impl Default for Criteria {
        fn default() -> Self {
            Criteria {
                alpha: 0.05,
                min_requests: 100,
                error_rate_tolerance: 0.005,
                max_error_rate: None,
                guard_min_requests: 20,
                srm_p_value: 0.001,
            }
        }
    }

    impl Criteria {
        pub fn from_json(value: &Value) -> Result<Criteria, String> {
            let mut criteria = Criteria::default();
            let Some(object) = value.as_object() else { return Err("criteria must be an object".into()) };
            if let Some(alpha) = object.get("alpha").and_then(Value::as_f64) {
                criteria.alpha = alpha;
            }
            if let Some(n) = object.get("minRequests").and_then(Value::as_u64) {
                criteria.min_requests = n;
            }
            if let Some(x) = object.get("maxErrorRate").and_then(Value::as_f64) {
                criteria.max_error_rate = Some(x);
            }
            Ok(criteria)
        }
        pub fn to_json(&self) -> Value {
            json!({ "alpha": self.alpha, "minRequests": self.min_requests, "maxErrorRate": self.max_error_rate })
        }
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Verdict {
        Healthy,
        Unhealthy,
        NotEnoughData,
        Hold,
    }

    #[derive(Debug, Clone)]
    pub struct Judgement {
        pub verdict: Verdict,
        pub criterion: Option<String>,
        pub evidence: Value,
    }

    fn rate(arm: &Arm) -> f64 {
        if arm.requests == 0 { 0.0 } else { arm.errors as f64 / arm.requests as f64 }
    }

    pub fn judge(window: &Window, criteria: &Criteria) -> Judgement {
        let evidence = json!({
            "canary": { "requests": window.canary.requests, "errors": window.canary.errors, "errorRate": rate(window.canary), "p95": window.canary.latency.quantile(0.95) },
            "control": { "requests": window.control.requests, "errors": window.control.errors, "errorRate": rate(window.control), "p95": window.control.latency.quantile(0.95) },
        });
        let verdict = |verdict, criterion: Option<&str>| Judgement {
            verdict,
            criterion: criterion.map(str::to_string),
            evidence: evidence.clone(),
        };
        if let Some(max) = criteria.max_error_rate
            && window.canary.requests >= criteria.guard_min_requests
            && rate(window.canary) > max
        {
            return verdict(Verdict::Unhealthy, Some("max_error_rate"));
        }
        if window.canary.requests < criteria.min_requests || window.control.requests < criteria.min_requests {
            return verdict(Verdict::NotEnoughData, None);
        }
        if rate(window.canary) > rate(window.control) + criteria.error_rate_tolerance + 0.02 {
            return verdict(Verdict::Unhealthy, Some("error_rate"));
        }
        verdict(Verdict::Healthy, None)
    }
}

pub mod outcomes {
    use super::judgement::{Arm, LatencySketch};
    use crate::error::ApiResult;
    use crate::store::Store;
    use sqlx::Row;
    use std::collections::BTreeMap;

    /// The contract's table, created on first use (ingest's migration 0002 replaces this).
    pub const TABLE: &str = "CREATE TABLE IF NOT EXISTS outcomes (environment TEXT NOT NULL, flag TEXT NOT NULL, \
        variant TEXT NOT NULL, second BIGINT NOT NULL, exposures BIGINT NOT NULL, requests BIGINT NOT NULL, \
        errors BIGINT NOT NULL, conversions BIGINT NOT NULL, latency TEXT NOT NULL)";

    pub async fn window(
        store: &Store,
        environment: &str,
        flag: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> ApiResult<BTreeMap<String, Arm>> {
        sqlx::query(TABLE).execute(&store.pool).await?;
        let rows = sqlx::query(
            "SELECT variant, exposures, requests, errors, latency FROM outcomes \
             WHERE environment = $1 AND flag = $2 AND second >= $3 AND second < $4",
        )
        .bind(environment.to_string())
        .bind(flag.to_string())
        .bind(from_ms / 1000)
        .bind((to_ms + 999) / 1000)
        .fetch_all(&store.pool)
        .await?;
        let mut arms: BTreeMap<String, Arm> = BTreeMap::new();
        for row in rows {
            let arm = arms.entry(row.try_get("variant")?).or_default();
            arm.exposures += u64::try_from(row.try_get::<i64, _>("exposures")?).unwrap_or(0);
            arm.requests += u64::try_from(row.try_get::<i64, _>("requests")?).unwrap_or(0);
            arm.errors += u64::try_from(row.try_get::<i64, _>("errors")?).unwrap_or(0);
            let text: String = row.try_get("latency")?;
            if let Ok(sketch) = serde_json::from_str(&text).map(|v| LatencySketch::from_json(&v))
                && let Ok(sketch) = sketch
            {
                arm.latency.merge(&sketch);
            }
        }
        Ok(arms)
    }
}
