//! The few distributions the comparison needs: the normal and Student's t survival functions,
//! and the Welch statistics built on them. Written out here rather than pulled in as a crate:
//! sixty lines, each checked against published tables in the tests.

use super::Moments;

/// Sample size, mean and unbiased variance of plain numbers.
pub(crate) fn sample(x: &[f64]) -> Moments {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = if n > 1.0 {
        x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    Moments { n, mean, var }
}

/// z of the alternative "μa > k·μb" with normal errors (Welch's statistic for large samples).
/// Zero variance on both sides makes the difference certain: ±∞, or 0 when equal.
pub(crate) fn welch_z(a: Moments, b: Moments, k: f64) -> f64 {
    let diff = a.mean - k * b.mean;
    let se = (a.var / a.n + k * k * b.var / b.n).sqrt();
    if se > 0.0 {
        diff / se
    } else if diff > 0.0 {
        f64::INFINITY
    } else if diff < 0.0 {
        f64::NEG_INFINITY
    } else {
        0.0
    }
}

/// One-sided p-value of the alternative "k·μa > μb" by Welch's t-test: t = (k·μa − μb) / se,
/// Student's t with Welch–Satterthwaite degrees of freedom.
pub(crate) fn welch_t_sf(a: Moments, b: Moments, k: f64) -> f64 {
    let va = k * k * a.var / a.n;
    let vb = b.var / b.n;
    let diff = k * a.mean - b.mean;
    let se = (va + vb).sqrt();
    if se == 0.0 {
        return if diff > 0.0 { 0.0 } else { 1.0 };
    }
    let df = (va + vb).powi(2) / (va * va / (a.n - 1.0) + vb * vb / (b.n - 1.0));
    student_sf(diff / se, df)
}

/// P(Z > z) for a standard normal Z.
pub(crate) fn normal_sf(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// The complementary error function, to about 1e-7 relative (Numerical Recipes' erfcc, a
/// Chebyshev fit), far finer than the 0.025 it is compared with.
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// P(T > t) for Student's t with `df` degrees of freedom: ½·I_{df/(df+t²)}(df/2, ½) for t ≥ 0.
pub(crate) fn student_sf(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 {
        return 1.0;
    }
    if t.is_infinite() {
        return if t > 0.0 { 0.0 } else { 1.0 };
    }
    let tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t));
    if t >= 0.0 { tail } else { 1.0 - tail }
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, nine terms; ~1e-15 relative).
fn ln_gamma(x: f64) -> f64 {
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1−x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + 7.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The regularised incomplete beta function I_x(a, b), by its continued fraction (modified
/// Lentz), using the symmetry I_x(a,b) = 1 − I_{1−x}(b,a) where that converges faster.
fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_fraction(b, a, 1.0 - x) / b
    }
}

fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..300 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < 1e-12 {
            break;
        }
    }
    h
}
