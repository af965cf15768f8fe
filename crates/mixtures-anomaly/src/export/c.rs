//! The C99 header: `static const` arrays and `static inline` functions, no
//! allocation, nothing written but locals (reentrant), `<math.h>` only.

use std::fmt::Write as _;

use mixtures_score::Family;

use super::{ExportError, ExportKind, Exported, ExportedMixture, Precision, ScaleKind};

/// A value as a C literal that reads back to the same bits: the shortest
/// round-trip text for `double`; for `float` nine significant digits (then
/// the `f` suffix), which name the float exactly even where a compiler
/// rounds the decimal through `double` first.
fn literal(v: f64, precision: Precision) -> String {
    if v == f64::NEG_INFINITY {
        return "-INFINITY".to_owned();
    }
    match precision {
        Precision::F64 => format!("{v:?}"),
        Precision::F32 => format!("{:.8e}f", v as f32),
    }
}

/// Whether `s` is a C identifier.
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

struct Writer<'a> {
    out: String,
    prefix: &'a str,
    ty: &'static str,
    precision: Precision,
}

impl Writer<'_> {
    /// `static const T name[n] = {...};`, eight values a line.
    fn array(&mut self, name: &str, values: &[f64]) {
        if values.is_empty() {
            return;
        }
        let _ = writeln!(
            self.out,
            "static const {} {}_{name}[{}] = {{",
            self.ty,
            self.prefix,
            values.len()
        );
        for chunk in values.chunks(8) {
            let line: Vec<String> = chunk.iter().map(|&v| literal(v, self.precision)).collect();
            let _ = writeln!(self.out, "    {},", line.join(", "));
        }
        self.out.push_str("};\n");
    }

    fn math(&self, f: &str) -> String {
        match self.precision {
            Precision::F32 => format!("{f}f"),
            Precision::F64 => f.to_owned(),
        }
    }

    /// One part's arrays and its `ln p(x)` function, which also gives the
    /// most likely component.
    fn part(&mut self, j: usize, p: &ExportedMixture) {
        let (t, pre) = (self.ty, self.prefix.to_owned());
        let n = format!("p{j}");
        let _ = writeln!(
            self.out,
            "\n/* Part {j} ({}): {}, {} components. */",
            p.name,
            p.structure,
            p.log_weights.len()
        );
        self.array(&format!("{n}_log_weights"), &p.log_weights);
        self.array(&format!("{n}_means"), &p.means);
        self.array(&format!("{n}_log_norms"), &p.log_norms);
        self.array(&format!("{n}_scale"), &p.scale);
        self.array(&format!("{n}_dof"), &p.dof);
        if let Some((_, lower, upper)) = &p.noise {
            self.array(&format!("{n}_noise_lower"), lower);
            self.array(&format!("{n}_noise_upper"), upper);
        }
        let (k, d) = (p.log_weights.len(), p.dim);
        let tri = d * (d + 1) / 2;
        let (exp, log, log1p, fabs) = (
            self.math("exp"),
            self.math("log"),
            self.math("log1p"),
            self.math("fabs"),
        );
        let half = literal(0.5, self.precision);
        let zero = literal(0.0, self.precision);
        let one = literal(1.0, self.precision);
        let o = &mut self.out;
        let _ = writeln!(
            o,
            "\n/* ln p(x) under part {j}; the most likely component into *component\n   \
             (ties to the lower index; {k} for the noise). */\n\
             static inline {t} {pre}_{n}_log_prob(const {t} *x, int *component)\n{{\n    \
             {t} max = -INFINITY, sum = {zero};\n    int arg = 0, k, i, j;\n    \
             for (k = 0; k < {k}; k++) {{\n        \
             const {t} *mu = {pre}_{n}_means + k * {d};\n        \
             {t} dist = {zero}, v;"
        );
        let body = match p.scale_kind {
            ScaleKind::Full | ScaleKind::Tied => {
                let base = if p.scale_kind == ScaleKind::Full {
                    format!("{pre}_{n}_scale + k * {tri}")
                } else {
                    format!("{pre}_{n}_scale")
                };
                format!(
                    "        const {t} *l = {base};\n        \
                     for (i = 0; i < {d}; i++) {{\n            {t} z = {zero};\n            \
                     for (j = 0; j <= i; j++) z += l[j] * (x[j] - mu[j]);\n            \
                     l += i + 1;\n            dist += z * z;\n        }}\n"
                )
            }
            ScaleKind::Diag | ScaleKind::Spherical => {
                let s = if p.scale_kind == ScaleKind::Diag {
                    format!("{pre}_{n}_scale[k * {d} + j]")
                } else {
                    format!("{pre}_{n}_scale[k]")
                };
                let term = if p.family == Family::Laplace {
                    format!("{fabs}(z)")
                } else {
                    "z * z".to_owned()
                };
                format!(
                    "        (void)i;\n        for (j = 0; j < {d}; j++) {{\n            \
                     {t} z = (x[j] - mu[j]) * {s};\n            dist += {term};\n        }}\n"
                )
            }
        };
        o.push_str(&body);
        let norm = format!("{pre}_{n}_log_norms[k]");
        let density = match p.family {
            Family::Gaussian => format!("{norm} - {half} * dist"),
            Family::Laplace => format!("{norm} - dist"),
            Family::StudentT => format!(
                "{norm} - {half} * ({pre}_{n}_dof[k] + {}) * {log1p}(dist / {pre}_{n}_dof[k])",
                literal(d as f64, self.precision)
            ),
        };
        let _ = writeln!(
            o,
            "        v = {density} + {pre}_{n}_log_weights[k];\n        \
             /* NaN (inf - inf: a distance that overflowed) is a density of zero. */\n        \
             if (v != v) v = -INFINITY;\n        \
             if (v > max) {{\n            sum = sum * {exp}(max - v) + {one};\n            \
             max = v;\n            arg = k;\n        }} else if (v > -INFINITY) {{\n            \
             sum += {exp}(v - max);\n        }}\n    }}"
        );
        if let Some((ld, _, _)) = &p.noise {
            let _ = writeln!(
                o,
                "    for (j = 0; j < {d} && x[j] >= {pre}_{n}_noise_lower[j] && \
                 x[j] <= {pre}_{n}_noise_upper[j]; j++) {{}}\n    \
                 if (j == {d}) {{\n        {t} v = {};\n        k = {k};\n        \
                 if (v > max) {{\n            \
                 sum = sum * {exp}(max - v) + {one};\n            max = v;\n            \
                 arg = k;\n        }} else if (v > -INFINITY) {{\n            \
                 sum += {exp}(v - max);\n        }}\n    }}",
                literal(*ld, self.precision)
            );
        }
        let _ = writeln!(
            o,
            "    *component = arg;\n    return max > -INFINITY ? max + {log}(sum) : -INFINITY;\n}}"
        );
    }
}

impl Exported {
    /// A single C99 header (see docs/embedded.md for the contract):
    /// `#define PREFIX_DIM D`, `T prefix_log_prob(const T *x)`, `T
    /// prefix_anomaly_score(const T *x)`, `int prefix_is_anomaly(const T *x)`
    /// (a detector only), `int prefix_component(const T *x)`, with `T` the
    /// export's precision (`float` or `double`). Every array is `static
    /// const`, every function `static inline` and reentrant.
    ///
    /// # Errors
    /// [`ExportError::InvalidPrefix`] for a prefix that is not a C identifier.
    pub fn to_c(&self, prefix: &str) -> Result<String, ExportError> {
        if !is_identifier(prefix) {
            return Err(ExportError::InvalidPrefix(prefix.to_owned()));
        }
        let ty = match self.precision {
            Precision::F32 => "float",
            Precision::F64 => "double",
        };
        let upper = prefix.to_ascii_uppercase();
        let mut w = Writer {
            out: String::new(),
            prefix,
            ty,
            precision: self.precision,
        };
        let _ = writeln!(
            w.out,
            "/* Generated by `mixtures export` (mixtures {}): {}. Do not edit; regenerate.\n   \
             C99, no allocation, no globals written: every function is reentrant.\n   \
             Link with the C math library (-lm). docs/embedded.md has the contract. */\n\
             #ifndef {upper}_H\n#define {upper}_H\n\n#include <math.h>\n",
            env!("CARGO_PKG_VERSION"),
            self.describe()
        );
        let _ = writeln!(w.out, "/* Features of a point, in this order. */");
        let _ = writeln!(w.out, "#define {upper}_DIM {}", self.dim());
        if let Some(names) = &self.feature_names {
            let list: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
            let _ = writeln!(
                w.out,
                "/* Features: {} */",
                list.join(", ").replace("*/", "* /")
            );
        }
        let main = &self.parts[self.main.min(self.parts.len() - 1)];
        let _ = writeln!(
            w.out,
            "/* Components of the model ({}_component returns 0..{}_COMPONENTS - 1{}). */\n\
             #define {upper}_COMPONENTS {}",
            prefix,
            upper,
            if main.noise.is_some() {
                ", or the count for the noise"
            } else {
                ""
            },
            main.log_weights.len()
        );
        if let Some(t) = self.threshold {
            let _ = writeln!(
                w.out,
                "/* A point is an anomaly when its score is >= this. */\n\
                 #define {upper}_THRESHOLD ({})",
                literal(t, self.precision)
            );
        }
        for (j, p) in self.parts.iter().enumerate() {
            w.part(j, p);
        }
        let out = &mut w.out;
        let m = self.main;
        let score_body = match self.kind {
            ExportKind::Model | ExportKind::Detector => {
                format!("    int c;\n    return -{prefix}_p0_log_prob(x, &c);\n")
            }
            ExportKind::Ensemble => {
                let mut s = format!(
                    "    int c;\n    {ty} score = {};\n",
                    literal(0.0, self.precision)
                );
                for (j, p) in self.parts.iter().enumerate() {
                    let _ = writeln!(
                        s,
                        "    score += {} * (-{prefix}_p{j}_log_prob(x, &c) - {});",
                        literal(p.weight, self.precision),
                        literal(p.centre, self.precision)
                    );
                }
                s.push_str("    return score;\n");
                s
            }
        };
        let _ = writeln!(
            out,
            "\n/* The anomaly score: higher is more anomalous. {} */\n\
             static inline {ty} {prefix}_anomaly_score(const {ty} *x)\n{{\n{score_body}}}",
            match self.kind {
                ExportKind::Ensemble => "The mean of the parts' scaled scores.",
                _ => "-ln p(x).",
            }
        );
        let _ = writeln!(
            out,
            "\n/* ln p(x){} */\nstatic inline {ty} {prefix}_log_prob(const {ty} *x)\n{{\n{}}}",
            match self.kind {
                ExportKind::Ensemble => ": minus the score (an unnormalized log density).",
                _ => ".",
            },
            match self.kind {
                ExportKind::Ensemble => format!("    return -{prefix}_anomaly_score(x);\n"),
                _ => format!("    int c;\n    return {prefix}_p0_log_prob(x, &c);\n"),
            }
        );
        if self.threshold.is_some() {
            let _ = writeln!(
                out,
                "\n/* 1 when the score is >= {upper}_THRESHOLD (and for a NaN score), else 0. */\n\
                 static inline int {prefix}_is_anomaly(const {ty} *x)\n{{\n    \
                 return !({prefix}_anomaly_score(x) < {upper}_THRESHOLD);\n}}"
            );
        }
        let _ = writeln!(
            out,
            "\n/* The most likely component of the model{}. */\n\
             static inline int {prefix}_component(const {ty} *x)\n{{\n    int c;\n    \
             (void){prefix}_p{m}_log_prob(x, &c);\n    return c;\n}}\n\n#endif /* {upper}_H */",
            if self.kind == ExportKind::Ensemble {
                " (the ensemble's main part)"
            } else {
                ""
            }
        );
        Ok(w.out)
    }

    /// One line: what was exported.
    pub(super) fn describe(&self) -> String {
        let what = match self.kind {
            ExportKind::Model => "model",
            ExportKind::Detector => "detector",
            ExportKind::Ensemble => "ensemble detector",
        };
        let parts: Vec<String> = self
            .parts
            .iter()
            .map(|p| format!("{} ({} components)", p.structure, p.log_weights.len()))
            .collect();
        format!(
            "a {what} of {} features, {}, in {}",
            self.dim(),
            parts.join(" + "),
            self.precision.as_str()
        )
    }
}
