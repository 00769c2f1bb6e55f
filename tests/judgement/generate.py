#!/usr/bin/env python3
"""Reference values for pennon_core::judgement, computed with scipy / statsmodels / numpy.

Writes tests/judgement/reference.json (or the path given as the first argument); the Rust
test core/tests/judgement.rs reads it and must agree to 1e-9 relative. Nothing here calls
Pennon: every formula is written again from docs/judgement.md, and the closed forms of
the mixture martingales are checked against numerical integration of their definition.
"""

import json
import math
import sys
from pathlib import Path

import numpy as np
import scipy
import statsmodels
from scipy import integrate, optimize, stats
from statsmodels.stats.proportion import confint_proportions_2indep

TUNING = 5000.0  # N*, GrowthBook's default tuning of the confidence sequence
SRM_THRESHOLD = 0.001
DEFAULT_CRITERIA = {
    "alpha": 0.05,
    "minRequests": 100,
    "errorRateTolerance": 0.005,
    "maxErrorRate": None,
    "guardMinRequests": 20,
    "latency": [{"quantile": 0.95, "maxIncreaseMs": 500.0, "maxRatio": 1.5}],
    "srmPValue": SRM_THRESHOLD,
}


# --- the normal mixtures (docs/judgement.md, "The error-rate test") -------------------


def rho2(alpha):
    return (-2 * np.log(alpha) + np.log(1 - 2 * np.log(alpha))) / TUNING


def log_mixture(z, a):
    """ln M(z), Robbins' two-sided normal mixture, in closed form."""
    return -0.5 * np.log1p(a) + a * z * z / (2 * (a + 1))


def log_mixture_one_sided(z, a):
    """ln M+(z), the half-normal (positive drift) mixture, in closed form."""
    if z == -math.inf:
        return -math.inf
    return np.log(2) + log_mixture(z, a) + stats.norm.logcdf(z * np.sqrt(a / (a + 1)))


def check_closed_forms(z, n, alpha):
    """The closed forms equal the mixtures' definitions: with t = n observations of unit
    variance, S = z·√t, M = ∫ exp(λS − λ²t/2) dF(λ), F = N(0, ρ²) or its positive half."""
    r2, t = rho2(alpha), n
    s = z * math.sqrt(t)
    density = stats.norm(scale=math.sqrt(r2)).pdf
    # Integrate around the integrand's peak (λ = S/(t + 1/ρ²)) so quad cannot miss it.
    peak, spread = s / (t + 1 / r2), 1 / math.sqrt(t + 1 / r2)
    points = [peak - 40 * spread, peak, peak + 40 * spread]

    def integrand(lam):
        return math.exp(lam * s - lam * lam * t / 2) * density(lam)

    two = sum(integrate.quad(integrand, lo, hi, epsabs=0, epsrel=1e-13, limit=200)[0] for lo, hi in zip(points, points[1:]))
    half_points = [max(0.0, p) for p in points]
    one = 2 * sum(
        integrate.quad(integrand, lo, hi, epsabs=0, epsrel=1e-13, limit=200)[0] for lo, hi in zip(half_points, half_points[1:]) if hi > lo
    )
    a = n * r2
    assert math.isclose(two, math.exp(log_mixture(z, a)), rel_tol=1e-9), (z, n, two)
    if one > 1e-300:
        assert math.isclose(one, math.exp(log_mixture_one_sided(z, a)), rel_tol=1e-8), (z, n, one)


def two_sided_width(n, alpha):
    """GrowthBook's half-width in standard errors: √(2(Nρ²+1)/(Nρ²) · ln(√(Nρ²+1)/α))."""
    a = n * rho2(alpha)
    return math.sqrt(2 * (a + 1) / a * math.log(math.sqrt(a + 1) / alpha))


def one_sided_width(n, alpha):
    a = n * rho2(alpha)
    return optimize.brentq(lambda z: log_mixture_one_sided(z, a) + math.log(alpha), 0.0, 100.0, xtol=1e-15, rtol=1e-15, maxiter=500)


def p_value(log_m):
    return 1.0 if math.isnan(log_m) else min(1.0, math.exp(-log_m))


def z_of(value, standard_error, null):
    distance = value - null
    if standard_error > 0:
        return distance / standard_error
    return math.inf if distance > 0 else -math.inf if distance < 0 else 0.0


# --- proportions ------------------------------------------------------------------------


def rate(successes, trials):
    return 0.0 if trials == 0 else successes / trials


def variance(successes, trials):
    p = min(max(rate(successes, trials), 0.0), 1.0)
    return 0.0 if trials == 0 else p * (1 - p) / trials


def difference(x1, n1, x0, n0):
    value = rate(x1, n1) - rate(x0, n0)
    se = math.sqrt(variance(x1, n1) + variance(x0, n0))
    if 0 < x1 < n1 and 0 < x0 < n0:
        # statsmodels' Wald interval is value ± z·se with the same unpooled se.
        low, high = confint_proportions_2indep(x1, n1, x0, n0, method="wald", compare="diff", alpha=0.05)
        assert math.isclose((high - low) / (2 * stats.norm.ppf(0.975)), se, rel_tol=1e-12), (x1, n1, x0, n0)
    return value, se


def lift(x1, n1, x0, n0):
    p1, p0 = rate(x1, n1), rate(x0, n0)
    if p0 <= 0:
        return None
    # Delta method for g(p1, p0) = p1/p0 − 1: gradient (1/p0, −p1/p0²).
    gradient = np.array([1 / p0, -p1 / p0**2])
    covariance = np.diag([variance(x1, n1), variance(x0, n0)])
    return p1 / p0 - 1, math.sqrt(gradient @ covariance @ gradient)


def sample_ratio(observed, weights):
    total, weight_sum = sum(observed), sum(weights)
    if total == 0 or sum(1 for w in weights if w > 0) < 2:
        return None
    expected = [total * w / weight_sum for w in weights]
    result = stats.chisquare(observed, f_exp=expected)
    df = len(observed) - 1
    assert math.isclose(result.pvalue, stats.chi2.sf(result.statistic, df), rel_tol=1e-12, abs_tol=1e-300)
    return float(result.statistic), df, float(result.pvalue)


# --- the latency sketch's quantile (docs/judgement.md, "Latency") -----------------------


def value_of(index):
    return 0.005 if index == 0 else 2 * 0.01 * 1.04**index / 2.04


def quantile(buckets, q):
    total = sum(count for _, count in buckets)
    if total == 0:
        return None
    rank = math.floor(q * (total - 1))
    seen = 0
    for index, count in sorted(buckets):
        seen += count
        if seen > rank:
            return value_of(index)
    return None


# --- judge and experiment ---------------------------------------------------------------


def arm_json(arm):
    requests, errors = arm["requests"], min(arm["errors"], arm["requests"])
    return {
        "exposures": arm["exposures"],
        "requests": requests,
        "errors": arm["errors"],
        "errorRate": rate(errors, requests),
        "latencies": sum(count for _, count in arm["latency"]),
        "p50": quantile(arm["latency"], 0.5),
        "p95": quantile(arm["latency"], 0.95),
        "p99": quantile(arm["latency"], 0.99),
    }


def judge(canary, control, share, overrides):
    criteria = {**DEFAULT_CRITERIA, **overrides}
    alpha, minimum = criteria["alpha"], criteria["minRequests"]
    evidence = {"canary": arm_json(canary), "control": arm_json(control), "canaryShare": share}
    failed = lambda arm: min(arm["errors"], arm["requests"])  # noqa: E731

    srm = None
    if canary["exposures"] > 0 and control["exposures"] > 0 and 0 < share < 1:
        srm = sample_ratio([canary["exposures"], control["exposures"]], [share, 1 - share])
    evidence["sampleRatio"] = (
        None
        if srm is None
        else {"observedShare": rate(canary["exposures"], canary["exposures"] + control["exposures"]), "chi2": srm[0], "pValue": srm[2]}
    )

    test = None
    if canary["requests"] > 0 and control["requests"] > 0:
        value, se = difference(failed(canary), canary["requests"], failed(control), control["requests"])
        n = canary["requests"] + control["requests"]
        half = two_sided_width(n, alpha) * se
        p = p_value(log_mixture_one_sided(z_of(value, se, criteria["errorRateTolerance"]), n * rho2(alpha)))
        test = {
            "difference": value,
            "standardError": se,
            "interval": [value - half, value + half],
            "lowerBound": value - one_sided_width(n, alpha) * se,
            "tolerance": criteria["errorRateTolerance"],
            "pValue": p,
        }
    evidence["errorRate"] = test

    latency = []
    for criterion in criteria["latency"]:
        q = criterion["quantile"]
        name = "latency_p" + f"{q * 100:.3f}".rstrip("0").rstrip(".")
        entry = {"criterion": name, "quantile": q}
        canary_ms, control_ms = quantile(canary["latency"], q), quantile(control["latency"], q)
        if canary_ms is not None and control_ms is not None:
            increase = canary_ms - control_ms
            exceeded = (criterion.get("maxIncreaseMs") is not None and increase > criterion["maxIncreaseMs"]) or (
                criterion.get("maxRatio") is not None and canary_ms > criterion["maxRatio"] * control_ms
            )
            entry.update(canaryMs=canary_ms, controlMs=control_ms, increaseMs=increase, ratio=canary_ms / control_ms, exceeded=exceeded)
        latency.append(entry)
    evidence["latency"] = latency

    canary_rate = rate(failed(canary), canary["requests"])
    if criteria["maxErrorRate"] is not None and canary["requests"] >= criteria["guardMinRequests"] and canary_rate > criteria["maxErrorRate"]:
        return "unhealthy", "max_error_rate", evidence
    if share >= 1:  # no control cohort: only the guard judges
        if canary["requests"] < minimum:
            evidence["missing"] = {"canaryRequests": minimum - canary["requests"], "controlRequests": 0}
            return "not_enough_data", None, evidence
        return "healthy", None, evidence
    missing = (max(0, minimum - canary["requests"]), max(0, minimum - control["requests"]))
    if missing != (0, 0):
        evidence["missing"] = {"canaryRequests": missing[0], "controlRequests": missing[1]}
        return "not_enough_data", None, evidence
    if srm is not None and srm[2] < criteria["srmPValue"]:
        return "hold", "sample_ratio", evidence
    if test is not None and test["pValue"] <= alpha:
        return "unhealthy", "error_rate", evidence
    counts = (evidence["canary"]["latencies"], evidence["control"]["latencies"])
    short = []
    for entry in latency:
        if counts == (0, 0):
            continue
        if min(counts) < minimum:
            short.append(entry["criterion"])
            continue
        if entry.get("exceeded"):
            return "unhealthy", entry["criterion"], evidence
    if short:
        evidence["missing"] = {"canaryLatencies": max(0, minimum - counts[0]), "controlLatencies": max(0, minimum - counts[1]), "criteria": short}
        return "not_enough_data", None, evidence
    return "healthy", None, evidence


def comparison(estimate, n, alpha):
    if estimate is None:
        return None
    value, se = estimate
    half = two_sided_width(n, alpha) * se
    return {
        "estimate": value,
        "standardError": se,
        "interval": [value - half, value + half],
        "pValue": p_value(log_mixture(z_of(value, se, 0.0), n * rho2(alpha))),
    }


def experiment(tallies, control, alpha):
    total = sum(t["exposures"] for t in tallies)
    base = next((t for t in tallies if t["variant"] == control), None)
    variants = []
    for t in tallies:
        entry = {
            "variant": t["variant"],
            "exposures": t["exposures"],
            "conversions": t["conversions"],
            "rate": rate(t["conversions"], t["exposures"]),
            "observedShare": rate(t["exposures"], total),
            "control": t["variant"] == control,
        }
        if base is not None and t["variant"] != control:
            n = t["exposures"] + base["exposures"]
            counts = (t["conversions"], t["exposures"], base["conversions"], base["exposures"])
            both = t["exposures"] > 0 and base["exposures"] > 0
            entry["difference"] = comparison(difference(*counts) if both else None, n, alpha)
            entry["lift"] = comparison(lift(*counts) if t["exposures"] > 0 else None, n, alpha)
        variants.append(entry)
    srm = sample_ratio([t["exposures"] for t in tallies], [t["weight"] for t in tallies])
    sample = None if srm is None else {"chi2": srm[0], "degreesOfFreedom": srm[1], "pValue": srm[2], "mismatch": srm[2] < SRM_THRESHOLD}
    return {"control": control, "alpha": alpha, "variants": variants, "sampleRatio": sample}


# --- the table of inputs ------------------------------------------------------------------


def arm(exposures, requests, errors, latency=()):
    return {"exposures": exposures, "requests": requests, "errors": errors, "latency": [list(pair) for pair in latency]}


def lognormal_buckets(median_ms, sigma, count, extra_ms=0.0):
    """A deterministic latency sketch: `count` latencies at evenly spaced normal quantiles."""
    buckets = {}
    for k in range(count):
        ms = median_ms * math.exp(sigma * stats.norm.ppf((k + 0.5) / count)) + extra_ms
        index = 0 if ms <= 0.01 else min(511, math.ceil(math.log(ms / 0.01) / math.log(1.04)))
        buckets[index] = buckets.get(index, 0) + 1
    return sorted(buckets.items())


JUDGE_CASES = [
    ("healthy", arm(1000, 1000, 20, lognormal_buckets(100, 0.5, 1000)), arm(9000, 9000, 180, lognormal_buckets(100, 0.5, 9000)), 0.1, {}),
    ("error_rate", arm(1000, 1000, 60), arm(9000, 9000, 90), 0.1, {}),
    ("error_rate_small_increase", arm(5000, 5000, 140), arm(5000, 5000, 100), 0.5, {"errorRateTolerance": 0.0}),
    ("within_tolerance", arm(200000, 200000, 4800), arm(200000, 200000, 4000), 0.5, {}),
    ("alpha_split", arm(3000, 3000, 120), arm(7000, 7000, 175), 0.3, {"alpha": 0.0125}),
    ("guard", arm(30, 30, 9), arm(300, 300, 3), 0.1, {"maxErrorRate": 0.2}),
    ("not_enough_data", arm(50, 50, 1), arm(450, 450, 9), 0.1, {}),
    ("sample_ratio", arm(1000, 1000, 100), arm(9000, 9000, 90), 0.2, {}),
    ("latency", arm(1000, 1000, 10, lognormal_buckets(100, 0.5, 1000, 300)), arm(1000, 1000, 10, lognormal_buckets(100, 0.5, 1000)), 0.5, {}),
    (
        "latency_p99_ratio",
        arm(2000, 2000, 20, lognormal_buckets(80, 0.8, 2000, 80)),
        arm(2000, 2000, 20, lognormal_buckets(80, 0.8, 2000)),
        0.5,
        {"latency": [{"quantile": 0.5, "maxIncreaseMs": 100.0, "maxRatio": None}, {"quantile": 0.99, "maxIncreaseMs": None, "maxRatio": 1.1}]},
    ),
    ("few_latencies", arm(1000, 1000, 10, [(200, 5)]), arm(1000, 1000, 10, lognormal_buckets(100, 0.5, 1000)), 0.5, {}),
    ("no_errors_anywhere", arm(500, 500, 0), arm(500, 500, 0), 0.5, {}),
    ("all_errors_in_canary", arm(500, 500, 500), arm(500, 500, 0), 0.5, {}),
    # At 100 % the control outcomes are stragglers of the stage before: only the guard judges.
    ("full_share_guard_only", arm(1000, 1000, 60), arm(300, 300, 3), 1.0, {}),
    ("full_share_guard", arm(1000, 1000, 300), arm(300, 300, 3), 1.0, {"maxErrorRate": 0.2}),
    ("full_share_not_enough_data", arm(40, 40, 0), arm(0, 0, 0), 1.0, {}),
]

EXPERIMENT_CASES = [
    ([("off", 10000, 500, 0.5), ("on", 10000, 620, 0.5)], "off", 0.05),
    ([("control", 3000, 300, 1 / 3), ("red", 3000, 390, 1 / 3), ("blue", 3100, 295, 1 / 3)], "control", 0.05),
    ([("a", 50000, 2500, 0.5), ("b", 48000, 2460, 0.5)], "a", 0.01),
    ([("a", 800, 0, 0.2), ("b", 3200, 16, 0.8)], "a", 0.1),
]

NORMAL_POINTS = [-37.5, -30.0, -8.0, -5.0, -1.959963984540054, -0.5, 0.0, 0.3, 1.0, 1.6448536269514722, 3.0, 7.5]
CHI_SQUARE_POINTS = [(0.001, 1), (0.5, 1), (1.0, 1), (3.841458820694124, 1), (10.0, 1), (100.0, 1), (625.0, 1), (10.0, 3), (0.5, 2), (50.0, 9), (200.0, 99), (80.0, 99)]
SAMPLE_RATIO_CASES = [([1000, 9000], [0.1, 0.9]), ([1000, 9000], [0.2, 0.8]), ([1021, 8979], [0.1, 0.9]), ([3000, 3100, 2950], [1, 1, 1]), ([5, 7, 0, 12], [0.25, 0.25, 0.25, 0.25])]
MIXTURE_CASES = [(n, alpha) for n in (100, 1000, 5000, 40000, 1e6) for alpha in (0.05, 0.0125, 0.001)]
Z_POINTS = [-2.0, 0.0, 0.5, 1.96, 3.0, 4.5]
PROPORTION_CASES = [(30, 1000, 20, 1000), (1, 50, 9, 450), (620, 10000, 500, 10000), (0, 100, 3, 300), (7, 7, 0, 10)]


def main():
    for n, alpha in [(100, 0.05), (5000, 0.0125), (40000, 0.05)]:
        for z in (-1.0, 0.0, 1.5, 3.0):
            check_closed_forms(z, n, alpha)
    reference = {
        "generator": "tests/judgement/generate.py",
        "versions": {"numpy": np.__version__, "scipy": scipy.__version__, "statsmodels": statsmodels.__version__},
        "normal": [{"x": x, "cdf": float(stats.norm.cdf(x)), "logCdf": float(stats.norm.logcdf(x))} for x in NORMAL_POINTS],
        "chiSquare": [{"x": x, "df": df, "sf": float(stats.chi2.sf(x, df))} for x, df in CHI_SQUARE_POINTS],
        "sampleRatio": [
            dict(zip(("observed", "weights", "chi2", "df", "pValue"), (observed, weights, *sample_ratio(observed, weights))))
            for observed, weights in SAMPLE_RATIO_CASES
        ],
        "mixture": [
            {
                "n": n,
                "alpha": alpha,
                "rho2": float(rho2(alpha)),
                "twoSidedWidth": two_sided_width(n, alpha),
                "oneSidedWidth": one_sided_width(n, alpha),
                "z": Z_POINTS,
                "twoSidedP": [p_value(float(log_mixture(z, n * rho2(alpha)))) for z in Z_POINTS],
                "oneSidedP": [p_value(float(log_mixture_one_sided(z, n * rho2(alpha)))) for z in Z_POINTS],
            }
            for n, alpha in MIXTURE_CASES
        ],
        "proportions": [
            {
                "counts": list(counts),
                "difference": difference(*counts)[0],
                "differenceSe": difference(*counts)[1],
                "lift": None if lift(*counts) is None else lift(*counts)[0],
                "liftSe": None if lift(*counts) is None else float(lift(*counts)[1]),
            }
            for counts in PROPORTION_CASES
        ],
        "judge": [],
        "experiment": [],
    }
    for name, canary, control, share, overrides in JUDGE_CASES:
        verdict, criterion, evidence = judge(canary, control, share, overrides)
        reference["judge"].append(
            {"name": name, "canary": canary, "control": control, "canaryShare": share, "criteria": overrides, "verdict": verdict, "criterion": criterion, "evidence": evidence}
        )
    for tallies, control, alpha in EXPERIMENT_CASES:
        rows = [{"variant": v, "exposures": e, "conversions": c, "weight": w} for v, e, c, w in tallies]
        reference["experiment"].append({"tallies": rows, "control": control, "alpha": alpha, "expected": experiment(rows, control, alpha)})
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("reference.json")
    out.write_text(json.dumps(reference, indent=1, allow_nan=False) + "\n")


if __name__ == "__main__":
    main()
