"""Reference values for crates/stats, computed with scipy and statsmodels.

Run from this folder:  python3 generate.py > reference.json
Versions used for the committed file: see the "versions" entry it writes.
"""
import json

import numpy
import scipy
import scipy.integrate
import scipy.optimize
import scipy.stats
import statsmodels
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    power_proportions_2indep,
    samplesize_proportions_2indep_onetail,
    proportion_confint,
    proportions_ztest,
    test_proportions_2indep,
)

PAIRS = [
    # (control successes, control trials, treatment successes, treatment trials)
    (120, 1000, 150, 1000),
    (3, 10, 7, 12),
    (5000, 100000, 5300, 100000),
    (40, 400, 40, 400),
    (0, 50, 5, 50),
    (1, 3, 2, 3),
    (980, 1000, 990, 1000),
    (3, 10, 7, 10),
    (2, 30, 9, 25),
]
TABLES = [
    [(120, 1000), (150, 1000), (135, 1000)],
    [(10, 90), (25, 110), (5, 70), (30, 100)],
    [(3, 10), (7, 12)],
    [(500, 10000), (520, 10000)],
]
SRM = [
    ([1000, 1200], [0.5, 0.5]),
    ([5012, 4988], [1, 1]),
    ([900, 2100, 3000], [1, 2, 3]),
    ([4500, 5500], [0.45, 0.55]),
]


def number(x):
    return None if x is None or not numpy.isfinite(x) else float(x)


def pairs():
    cases = []
    for cs, cn, ts, tn in PAIRS:
        pooled = proportions_ztest([ts, cs], [tn, cn], value=0, alternative="two-sided")
        wald = test_proportions_2indep(ts, tn, cs, cn, method="wald", compare="diff", correction=False)
        fisher = scipy.stats.fisher_exact([[cs, cn - cs], [ts, tn - ts]])
        newcombe = confint_proportions_2indep(ts, tn, cs, cn, method="newcomb", compare="diff", alpha=0.05)
        cases.append({
            "fisher": float(fisher.pvalue),
            "newcombe": [float(newcombe[0]), float(newcombe[1])],
            "control": [cs, cn],
            "treatment": [ts, tn],
            "z_pooled": [number(pooled[0]), number(pooled[1])],
            "z_wald": [number(wald.statistic), number(wald.pvalue)],
        })
    return cases


def wilson():
    cases = []
    for successes, trials in sorted({(c[0], c[1]) for c in PAIRS} | {(c[2], c[3]) for c in PAIRS}):
        for alpha in (0.05, 0.01, 0.2):
            low, high = proportion_confint(successes, trials, alpha=alpha, method="wilson")
            cases.append({"counts": [successes, trials], "alpha": alpha, "interval": [low, high]})
    return cases


def chi_square():
    cases = []
    for arms in TABLES:
        table = numpy.array([[s, n - s] for s, n in arms])
        plain = scipy.stats.chi2_contingency(table, correction=False)
        yates = scipy.stats.chi2_contingency(table, correction=True)
        g = scipy.stats.chi2_contingency(table, correction=False, lambda_="log-likelihood")
        cases.append({
            "g": [float(g.statistic), int(g.dof), float(g.pvalue)],
            "arms": [list(arm) for arm in arms],
            "plain": [float(plain.statistic), int(plain.dof), float(plain.pvalue)],
            "yates": [float(yates.statistic), int(yates.dof), float(yates.pvalue)],
        })
    return cases


def srm():
    cases = []
    for observed, weights in SRM:
        total = sum(observed)
        expected = [total * w / sum(weights) for w in weights]
        result = scipy.stats.chisquare(observed, expected)
        cases.append({
            "observed": observed,
            "weights": weights,
            "result": [float(result.statistic), len(observed) - 1, float(result.pvalue)],
        })
    return cases


ADJUST = [
    [0.01, 0.04, 0.03, 0.005],
    [0.2, 0.01, 0.5, 0.04, 0.04],
    [0.9, 0.8],
    [0.001],
]


def adjust():
    return [{
        "p_values": p,
        "holm": [float(x) for x in multipletests(p, method="holm")[1]],
        "bh": [float(x) for x in multipletests(p, method="fdr_bh")[1]],
    } for p in ADJUST]


def chance_to_win():
    """P(B > A) under Beta(1 + s, 1 + n - s) posteriors, by numerical integration."""
    cases = []
    for cs, cn, ts, tn in PAIRS:
        a = scipy.stats.beta(1 + cs, 1 + cn - cs)
        b = scipy.stats.beta(1 + ts, 1 + tn - ts)
        # Integrate where B's posterior has its mass, so quad sees the peak.
        low, high = b.ppf(1e-12), b.isf(1e-12)
        value, _ = scipy.integrate.quad(lambda x: b.pdf(x) * a.cdf(x), low, high, epsabs=1e-14, epsrel=1e-12, limit=200)
        # E[max(C - T, 0)] = integral of f_C(x) (x F_T(x) - E[T] F_T+(x)), T+ = Beta(a_T + 1, b_T).
        t_plus = scipy.stats.beta(2 + ts, 1 + tn - ts)
        low_c, high_c = a.ppf(1e-12), a.isf(1e-12)
        loss, _ = scipy.integrate.quad(
            lambda x: a.pdf(x) * (x * b.cdf(x) - b.mean() * t_plus.cdf(x)),
            low_c, high_c, epsabs=1e-15, epsrel=1e-12, limit=200)
        cases.append({"control": [cs, cn], "treatment": [ts, tn], "chance": value, "loss": max(loss, 0.0)})
    return cases


def power():
    """Control-arm size for a power, and power of a size: statsmodels' two-independent-
    proportions functions, with sample 1 the control arm (rate = baseline) and sample 2 the
    treatment arm (ratio times as many units)."""
    cases = []
    for baseline, mde, alpha, wanted, ratio, sides in [
        (0.10, 0.02, 0.05, 0.8, 1.0, "two-sided"),
        (0.10, -0.02, 0.05, 0.9, 1.0, "two-sided"),
        (0.03, 0.005, 0.01, 0.8, 2.0, "two-sided"),
        (0.50, 0.05, 0.05, 0.8, 0.5, "larger"),
        (0.20, 0.10, 0.10, 0.95, 1.0, "two-sided"),
    ]:
        treatment = baseline + mde
        alternative = "two-sided" if sides == "two-sided" else ("smaller" if mde > 0 else "larger")
        n = samplesize_proportions_2indep_onetail(-mde, treatment, wanted, ratio=ratio, alpha=alpha, alternative=alternative)
        achieved = power_proportions_2indep(-mde, treatment, 1000, ratio=ratio, alpha=alpha, alternative=alternative, return_results=False)
        cases.append({
            "baseline": baseline, "treatment": treatment, "alpha": alpha, "ratio": ratio,
            "two_sided": sides == "two-sided", "power": wanted, "n": float(n),
            "power_at_1000": float(achieved),
        })
    return cases


def mann_whitney():
    """Two-sided Mann-Whitney U, method "auto" as scipy chooses it."""
    rng = numpy.random.default_rng(7)
    samples = [
        ([1.2, 3.4, 0.5, 7.7, 2.2], [4.1, 5.0, 6.3, 8.8, 9.9, 3.3]),
        ([1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0]),
        ([1.0, 2.0, 2.0, 3.0], [2.0, 4.0, 5.0]),
        (numpy.round(rng.normal(10, 3, 30), 1).tolist(), numpy.round(rng.normal(11, 3, 25), 1).tolist()),
        (numpy.round(rng.exponential(5, 6), 3).tolist(), numpy.round(rng.exponential(7, 40), 3).tolist()),
        (numpy.round(rng.normal(0, 1, 200), 2).tolist(), numpy.round(rng.normal(0.2, 1, 180), 2).tolist()),
    ]
    cases = []
    for control, treatment in samples:
        result = scipy.stats.mannwhitneyu(control, treatment, alternative="two-sided", method="auto")
        cases.append({"control": list(control), "treatment": list(treatment),
                      "u": float(result.statistic), "p_value": float(result.pvalue)})
    return cases


def minimum_detectable_effect():
    """The increase statsmodels' power function detects with the wanted power (brentq)."""
    cases = []
    for baseline, n, wanted, alpha, ratio, sides in [
        (0.10, 3841, 0.8, 0.05, 1.0, "two-sided"),
        (0.03, 10000, 0.9, 0.05, 2.0, "two-sided"),
        (0.40, 500, 0.8, 0.10, 1.0, "smaller"),
    ]:
        def gap(mde):
            return power_proportions_2indep(-mde, baseline + mde, n, ratio=ratio, alpha=alpha,
                                            alternative=sides, return_results=False) - wanted
        mde = scipy.optimize.brentq(gap, 1e-9, 1 - baseline - 1e-9, xtol=1e-15, rtol=1e-15)
        cases.append({"baseline": baseline, "n": n, "power": wanted, "alpha": alpha,
                      "ratio": ratio, "two_sided": sides == "two-sided", "mde": mde})
    return cases


def means_sample_size():
    """statsmodels' normal sample size with the same standard deviation in both arms."""
    from statsmodels.stats.power import normal_sample_size_one_tail
    cases = []
    for effect, sd, alpha, wanted, ratio, two_sided in [
        (0.5, 2.0, 0.05, 0.8, 1.0, True),
        (-1.5, 10.0, 0.01, 0.9, 3.0, True),
        (2.0, 5.0, 0.05, 0.8, 0.5, False),
    ]:
        tail = alpha / 2 if two_sided else alpha
        n = normal_sample_size_one_tail(effect, wanted, tail, std_null=sd * (1 + 1 / ratio) ** 0.5)
        cases.append({"effect": effect, "sd": sd, "alpha": alpha, "power": wanted,
                      "ratio": ratio, "two_sided": two_sided, "n": float(n)})
    return cases


def means_power():
    """Power and minimum detectable effect on means: statsmodels' NormalIndPower with effect
    size effect / sd, sample 1 the control arm, ratio = treatment units / control units. The
    MDE is both solve_power's answer (its root finder stops near 1e-8) and brentq on the same
    power function with tight tolerances (the 1e-9 reference)."""
    from statsmodels.stats.power import NormalIndPower
    analysis = NormalIndPower()
    cases = []
    for effect, sd, n, alpha, wanted, ratio, two_sided in [
        (0.5, 2.0, 250, 0.05, 0.8, 1.0, True),
        (-1.5, 10.0, 1200, 0.01, 0.9, 3.0, True),
        (2.0, 5.0, 60, 0.05, 0.8, 0.5, False),
        (0.05, 1.0, 40000, 0.1, 0.95, 1.0, True),
        (3.0, 40.0, 800, 0.05, 0.5, 2.0, False),
        (0.1, 1.0, 30, 0.05, 0.2, 1.0, True),
    ]:
        alternative = "two-sided" if two_sided else "larger"
        achieved = analysis.power(abs(effect) / sd, n, alpha, ratio=ratio, alternative=alternative)
        solved = analysis.solve_power(effect_size=None, nobs1=n, alpha=alpha, power=wanted,
                                      ratio=ratio, alternative=alternative)
        tight = scipy.optimize.brentq(
            lambda d: analysis.power(d, n, alpha, ratio=ratio, alternative=alternative) - wanted,
            1e-12, 100.0, xtol=1e-15, rtol=1e-15)
        cases.append({"effect": effect, "sd": sd, "n": n, "alpha": alpha, "power": wanted,
                      "ratio": ratio, "two_sided": two_sided, "achieved": float(achieved),
                      "mde_solve_power": float(solved) * sd, "mde": tight * sd})
    return cases


def beta_intervals():
    """Equal-tailed credible intervals of each arm's rate: scipy's Beta quantiles of the
    posterior Beta(prior alpha + successes, prior beta + failures)."""
    cases = []
    # The pairs' arms, and extremes: no conversions in many trials (a quantile near 1e-10 under
    # the Jeffreys prior), all converted, and a million trials.
    arms = sorted({(c[0], c[1]) for c in PAIRS} | {(c[2], c[3]) for c in PAIRS}
                  | {(0, 100000), (100000, 100000), (1, 1000000), (31234, 1000000)})
    for successes, trials in arms:
        for prior, alpha in [((1, 1), 0.05), ((1, 1), 0.01), ((0.5, 0.5), 0.05), ((3, 7), 0.2)]:
            posterior = scipy.stats.beta(prior[0] + successes, prior[1] + trials - successes)
            cases.append({"counts": [successes, trials], "prior": list(prior), "alpha": alpha,
                          "interval": [float(posterior.ppf(alpha / 2)), float(posterior.ppf(1 - alpha / 2))]})
    return cases


def bayes_means():
    """Normal posteriors of each arm's mean (flat prior): N(mean, s^2 / n). The chance that
    treatment's mean is above control's and the expected loss E[max(C - T, 0)] by numerical
    integration over the two posteriors (not through the closed forms the Rust code uses), and
    the equal-tailed interval of the difference from scipy's normal quantiles."""
    rng = numpy.random.default_rng(4242)
    cases = []
    for n_c, mean_c, sd_c, n_t, mean_t, sd_t, alpha in [
        (40, 10.0, 3.0, 45, 11.0, 3.5, 0.05),
        (25, 100.0, 20.0, 30, 96.0, 21.0, 0.1),
        (12, -5.0, 2.0, 9, -5.1, 2.5, 0.05),
        (60, 0.8, 4.0, 50, 0.8, 4.5, 0.01),
        (30, 50.0, 1.0, 30, 52.0, 1.0, 0.05),
    ]:
        control = numpy.round(rng.normal(mean_c, sd_c, n_c), 3)
        treatment = numpy.round(rng.normal(mean_t, sd_t, n_t), 3)
        c = scipy.stats.norm(control.mean(), numpy.sqrt(control.var(ddof=1) / n_c))
        t = scipy.stats.norm(treatment.mean(), numpy.sqrt(treatment.var(ddof=1) / n_t))
        c_low, c_high = c.ppf(1e-15), c.isf(1e-15)
        t_low, t_high = t.ppf(1e-15), t.isf(1e-15)
        chance, _ = scipy.integrate.quad(lambda x: t.pdf(x) * c.cdf(x), t_low, t_high,
                                         epsabs=1e-14, epsrel=1e-12, limit=200)
        # E[max(C - T, 0)]: over control's posterior, the expected shortfall of treatment below
        # it, E[max(x - T, 0)] = integral of F_T up to x.
        shortfall = lambda x: scipy.integrate.quad(t.cdf, t_low, x, epsabs=1e-15, epsrel=1e-12, limit=200)[0] if x > t_low else 0.0
        loss, _ = scipy.integrate.quad(lambda x: c.pdf(x) * shortfall(x), c_low, c_high,
                                       epsabs=1e-14, epsrel=1e-12, limit=200)
        difference = scipy.stats.norm(treatment.mean() - control.mean(),
                                      numpy.sqrt(control.var(ddof=1) / n_c + treatment.var(ddof=1) / n_t))
        cases.append({"control": control.tolist(), "treatment": treatment.tolist(), "alpha": alpha,
                      "chance": chance, "loss": loss,
                      "interval": [float(difference.ppf(alpha / 2)), float(difference.ppf(1 - alpha / 2))]})
    return cases


def cuped():
    """CUPED on seeded data: each unit's pre-period value x and in-experiment value y share a
    unit effect. theta = cov(x, y) / var(x) over all units (numpy.cov), the adjusted values
    y - theta (x - mean of x) per unit, and scipy's Welch test of each arm's adjusted values
    against the first arm's. Also checked here: the per-arm formulas from sums (adjusted mean
    and variance) give the same numbers to 1e-9."""
    rng = numpy.random.default_rng(99)
    cases = []
    for sizes, lifts, noise, alpha in [
        ((200, 220), (0.0, 0.4), 1.0, 0.05),
        ((150, 140, 160), (0.0, 0.2, -0.3), 6.0, 0.1),
        ((40, 35), (0.0, 1.0), 0.5, 0.05),
    ]:
        arms = []
        for n, lift in zip(sizes, lifts):
            unit = rng.gamma(2.0, 5.0, n)
            x = numpy.round(unit + rng.normal(0, noise, n), 3)
            y = numpy.round(unit + lift + rng.normal(0, noise, n), 3)
            arms.append((y, x))
        all_x = numpy.concatenate([x for _, x in arms])
        all_y = numpy.concatenate([y for y, _ in arms])
        theta = numpy.cov(all_x, all_y)[0, 1] / numpy.var(all_x, ddof=1)
        adjusted = [y - theta * (x - all_x.mean()) for y, x in arms]
        case = {"arms": [{"y": y.tolist(), "x": x.tolist()} for y, x in arms], "alpha": alpha,
                "theta": float(theta), "adjusted": [], "comparisons": []}
        for (y, x), a in zip(arms, adjusted):
            by_formula_mean = y.mean() - theta * (x.mean() - all_x.mean())
            cov = numpy.cov(x, y)[0, 1]
            by_formula_var = y.var(ddof=1) - 2 * theta * cov + theta ** 2 * x.var(ddof=1)
            assert abs(by_formula_mean - a.mean()) <= 1e-9 * abs(a.mean())
            assert abs(by_formula_var - a.var(ddof=1)) <= 1e-9 * a.var(ddof=1)
            case["adjusted"].append([float(a.mean()), float(a.var(ddof=1)), float(1 - a.var(ddof=1) / y.var(ddof=1))])
        for a in adjusted[1:]:
            result = scipy.stats.ttest_ind(a, adjusted[0], equal_var=False)
            ci = result.confidence_interval(1 - alpha)
            case["comparisons"].append([float(result.statistic), float(result.df), float(result.pvalue), float(ci.low), float(ci.high)])
        within = lambda values: sum((len(v) - 1) * v.var(ddof=1) for v in values)
        case["variance_reduction"] = float(1 - within(adjusted) / within([y for y, _ in arms]))
        cases.append(case)
    return cases


def sequential():
    """The mixture SPRT with a normal mixing distribution. No scipy or statsmodels function
    computes it, so its pieces are checked from their definitions instead of the closed forms
    the Rust code uses: the likelihood ratio by numerically integrating the normal likelihood
    of d over the mixing prior N(0, tau^2), divided by the likelihood at delta = 0; the
    confidence sequence by brentq, as the two deltas where Lambda(d - delta) = 1 / alpha
    (Lambda from the closed form, itself checked against the integral). The running p-value
    of a series of looks is numpy's running minimum of min(1, 1 / Lambda)."""
    def ln_lambda(d, v, tau2):
        return 0.5 * numpy.log(v / (v + tau2)) + tau2 * d * d / (2 * v * (v + tau2))

    def integrated(d, v, tau2):
        centre = d * tau2 / (v + tau2)
        spread = numpy.sqrt(v * tau2 / (v + tau2))
        null = scipy.stats.norm.logpdf(d, 0, numpy.sqrt(v))
        ratio = lambda t: numpy.exp(scipy.stats.norm.logpdf(d, t, numpy.sqrt(v))
                                    + scipy.stats.norm.logpdf(t, 0, numpy.sqrt(tau2)) - null)
        value, _ = scipy.integrate.quad(ratio, centre - 40 * spread, centre + 40 * spread,
                                        points=[centre], epsabs=0, epsrel=1e-13, limit=500)
        return value

    cases = []
    for d, v, tau2, alpha in [
        (0.01, 3.6e-5, 1e-4, 0.05),
        (0.002, 3.6e-5, 1e-4, 0.05),
        (-0.03, 1e-4, 4e-4, 0.1),
        (1.5, 0.25, 1.0, 0.05),
        (0.0, 0.01, 0.04, 0.01),
        (-4.0, 1.0, 0.5, 0.05),
        (0.05, 1e-4, 1e-3, 0.05),
    ]:
        ratio = integrated(d, v, tau2)
        assert abs(ratio / numpy.exp(ln_lambda(d, v, tau2)) - 1) < 1e-10, (d, v, tau2)
        target = numpy.log(1 / alpha)
        gap = lambda delta: ln_lambda(d - delta, v, tau2) - target
        reach = 100 * numpy.sqrt(v + tau2)
        low = scipy.optimize.brentq(gap, d - reach, d, xtol=1e-15, rtol=1e-15)
        high = scipy.optimize.brentq(gap, d, d + reach, xtol=1e-15, rtol=1e-15)
        cases.append({"difference": d, "variance": v, "tau_squared": tau2, "alpha": alpha,
                      "likelihood_ratio": ratio, "p_value": min(1.0, 1 / ratio), "interval": [low, high]})
    # A series of looks at one experiment: the estimate moves, the variance shrinks; the third
    # look is significant and the last, alone, would not be. The running interval is the
    # intersection of the looks' intervals (closed form, checked above).
    looks = [(0.02, 4e-4), (0.01, 2e-4), (0.03, 4e-5), (0.02, 2e-5), (0.005, 1e-5)]
    tau2, alpha = 1e-4, 0.05
    p = numpy.minimum.accumulate([min(1.0, numpy.exp(-ln_lambda(d, v, tau2))) for d, v in looks])
    halves = [numpy.sqrt(v * (v + tau2) / tau2 * (numpy.log((v + tau2) / v) + 2 * numpy.log(1 / alpha))) for d, v in looks]
    lows = numpy.maximum.accumulate([d - h for (d, _), h in zip(looks, halves)])
    highs = numpy.minimum.accumulate([d + h for (d, _), h in zip(looks, halves)])
    series = {"looks": [list(look) for look in looks], "tau_squared": tau2, "alpha": alpha,
              "p_values": p.tolist(), "running_intervals": [[float(a), float(b)] for a, b in zip(lows, highs)]}
    return {"cases": cases, "series": series}


def means():
    """t-tests on seeded samples; the arms are passed to Rust as (n, sum, sum of squares)."""
    rng = numpy.random.default_rng(20261122)
    shapes = [(40, 10.0, 3.0, 45, 11.0, 3.5), (8, 5.0, 1.0, 12, 5.2, 4.0), (500, 100.0, 20.0, 480, 101.0, 21.0)]
    samples = []
    for n_c, mean_c, sd_c, n_t, mean_t, sd_t in shapes:
        samples.append((numpy.round(rng.normal(mean_c, sd_c, n_c), 3),
                        numpy.round(rng.normal(mean_t, sd_t, n_t), 3)))
    # Raw values as a service sees them, summarised by Summary::of in Rust: revenue (most
    # customers pay nothing, the rest a log-normal amount), whole counts, and values far from 0
    # relative to their spread (where a sum of squares loses digits first).
    raw = numpy.random.default_rng(31)
    for n_c, n_t in [(300, 320), (15, 11)]:
        samples.append(tuple(
            numpy.round(numpy.where(raw.random(n) < 0.8, 0.0, raw.lognormal(3.0, 1.0, n)), 2)
            for n in (n_c, n_t)))
    samples.append((raw.poisson(3.0, 200).astype(float), raw.poisson(3.4, 150).astype(float)))
    samples.append((numpy.round(raw.normal(1000.0, 10.0, 100), 2), numpy.round(raw.normal(1002.0, 12.0, 90), 2)))
    cases = []
    for control, treatment in samples:
        case = {"control": control.tolist(), "treatment": treatment.tolist()}
        for name, equal in (("welch", False), ("student", True)):
            result = scipy.stats.ttest_ind(treatment, control, equal_var=equal)
            ci = result.confidence_interval(0.95)
            case[name] = [float(result.statistic), float(result.df), float(result.pvalue), float(ci.low), float(ci.high)]
        cases.append(case)
    return cases


def delta_ratio_interval(m_c, v_c, m_t, v_t, alpha):
    """m_t / m_c - 1 +- z sqrt(v_t / m_c^2 + m_t^2 v_c / m_c^4): the delta method on a ratio of
    independent means. Neither scipy nor statsmodels has this interval (statsmodels' ratio
    intervals for proportions are score or log intervals, not this one), so it is computed here
    with numpy from its formula, and the Rust code is checked against this independent copy."""
    z = scipy.stats.norm.isf(alpha / 2)
    ratio = m_t / m_c
    se = numpy.sqrt(v_t / m_c ** 2 + m_t ** 2 * v_c / m_c ** 4)
    return [float(ratio - 1 - z * se), float(ratio - 1 + z * se)]


def relative_lift():
    """Delta-method intervals of the relative lift, for rates (variance p (1 - p) / n) and for
    means of seeded samples (variance s^2 / n, ddof 1, passed to Rust as raw values)."""
    rates = []
    for cs, cn, ts, tn in PAIRS:
        for alpha in (0.05, 0.1):
            p_c, p_t = cs / cn, ts / tn
            interval = None
            if p_c > 0:
                interval = delta_ratio_interval(p_c, p_c * (1 - p_c) / cn, p_t, p_t * (1 - p_t) / tn, alpha)
            rates.append({"control": [cs, cn], "treatment": [ts, tn], "alpha": alpha, "interval": interval})
    rng = numpy.random.default_rng(1729)
    means_cases = []
    for n_c, mean_c, sd_c, n_t, mean_t, sd_t, alpha in [
        (40, 10.0, 3.0, 45, 11.0, 3.5, 0.05),
        (500, 100.0, 20.0, 480, 103.0, 21.0, 0.01),
        (12, -5.0, 2.0, 9, -4.0, 2.5, 0.05),
        (300, 0.8, 4.0, 320, 0.9, 4.5, 0.1),
    ]:
        control = numpy.round(rng.normal(mean_c, sd_c, n_c), 3)
        treatment = numpy.round(rng.normal(mean_t, sd_t, n_t), 3)
        interval = delta_ratio_interval(control.mean(), control.var(ddof=1) / n_c,
                                        treatment.mean(), treatment.var(ddof=1) / n_t, alpha)
        means_cases.append({"control": control.tolist(), "treatment": treatment.tolist(),
                            "alpha": alpha, "interval": interval})
    return {"rates": rates, "means": means_cases}


print(json.dumps({
    "versions": {"scipy": scipy.__version__, "statsmodels": statsmodels.__version__, "numpy": numpy.__version__},
    "pairs": pairs(),
    "wilson": wilson(),
    "chi_square": chi_square(),
    "srm": srm(),
    "adjust": adjust(),
    "means": means(),
    "chance_to_win": chance_to_win(),
    "power": power(),
    "mann_whitney": mann_whitney(),
    "minimum_detectable_effect": minimum_detectable_effect(),
    "means_sample_size": means_sample_size(),
    "relative_lift": relative_lift(),
    "means_power": means_power(),
    "beta_intervals": beta_intervals(),
    "bayes_means": bayes_means(),
    "cuped": cuped(),
    "sequential": sequential(),
}, indent=1))
