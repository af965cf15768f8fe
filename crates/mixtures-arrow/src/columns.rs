//! Which columns of a file are read, and how: the features (numbers), the
//! label column, and columns carried through as text. Resolved once against
//! the first file's schema, by the rules of the command line's CSV reader,
//! and every other file's schema is compared with the first's.

use std::path::Path;

use arrow::datatypes::{DataType, Schema};
use mixtures_core::source::SourceError;

/// The name of a column left out of the features when
/// [`Columns::label_by_name`] asks for it (any case).
pub const LABEL_NAME: &str = "label";

/// Which columns are features, which one holds labels, and which are kept as
/// text.
///
/// The default reads every column as a feature; a column that is not
/// numeric is then an error naming it (nothing is skipped silently).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Columns {
    /// Feature columns by name, in this order; `None`: every column except
    /// the label column (and the one [`Columns::label_by_name`] leaves out).
    pub features: Option<Vec<String>>,
    /// What named [`Columns::features`], for messages (`--columns`, "the
    /// model's feature names"); `None` says "the feature names".
    pub features_from: Option<String>,
    /// A column of 0/1 labels (1 = anomaly), never a feature.
    pub label: Option<String>,
    /// With neither `features` nor `label`: leave a column named `label`
    /// (any case) out of the features, as the command line's training
    /// commands do ([`Layout::left_out`] names it).
    pub label_by_name: bool,
    /// Columns carried through as text (any type), whatever their other role.
    pub keep: Vec<String>,
    /// Missing values: a null or a NaN in a feature column is read as NaN,
    /// a missing value (for
    /// [`Dataset::with_missing`](mixtures_core::Dataset::with_missing)),
    /// instead of an error. An infinity is still an error, and so is a null
    /// in the label column (a label must be 0 or 1); kept columns read a
    /// null as empty text either way. Rows with NaN are for code that reads
    /// missing values ([`ArrowFiles::for_each_chunk`](crate::ArrowFiles::for_each_chunk)),
    /// not for fits that take a [`RowSource`](mixtures_core::source::RowSource)
    /// or for [`ArrowFiles::read_table`](crate::ArrowFiles::read_table), whose
    /// `Dataset` refuses NaN.
    pub nulls_as_missing: bool,
}

/// The columns of a file set, resolved against the first file's schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The feature columns, in the order of the rows' columns.
    pub features: Vec<String>,
    /// The label column, when one is read.
    pub label: Option<String>,
    /// The kept columns ([`Columns::keep`]).
    pub kept: Vec<String>,
    /// A column named `label` left out of the features
    /// ([`Columns::label_by_name`]).
    pub left_out: Option<String>,
}

impl Layout {
    /// Every column a full read needs: the features, then the label, then
    /// the kept ones (a name may appear more than once).
    pub(crate) fn needed(&self, extras: bool) -> Vec<&str> {
        let mut names: Vec<&str> = self.features.iter().map(String::as_str).collect();
        if extras {
            names.extend(self.label.as_deref());
            names.extend(self.kept.iter().map(String::as_str));
        }
        names
    }
}

fn schema_error(path: &Path, message: String) -> SourceError {
    SourceError::Schema {
        location: path.display().to_string(),
        message,
    }
}

/// The one column named `name`; `what` says what asked for it.
fn find(path: &Path, schema: &Schema, name: &str, what: &str) -> Result<usize, SourceError> {
    let mut found = schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| f.name() == name);
    match (found.next(), found.next()) {
        (Some((i, _)), None) => Ok(i),
        (Some((i, _)), Some((j, _))) => Err(schema_error(
            path,
            format!(
                "column name {name:?} appears more than once (columns {} and {}); rename one",
                i + 1,
                j + 1
            ),
        )),
        (None, _) => Err(schema_error(
            path,
            format!(
                "no column named {name:?} (from {what}); the file has: {}",
                names(schema).join(", ")
            ),
        )),
    }
}

fn names(schema: &Schema) -> Vec<&str> {
    schema.fields().iter().map(|f| f.name().as_str()).collect()
}

/// Whether a column of this type can be read as numbers (integers, floats
/// and decimals; not booleans, text, dates or nested types).
pub fn is_numeric(t: &DataType) -> bool {
    t.is_numeric()
}

impl Columns {
    /// Resolves the columns against the first file's schema.
    ///
    /// # Errors
    /// [`SourceError::Schema`] naming the file: a column that is not there or
    /// whose name appears twice, a feature that is not numeric, a label
    /// column also named as a feature, a feature named twice, no feature
    /// column at all.
    pub fn resolve(&self, path: &Path, schema: &Schema) -> Result<Layout, SourceError> {
        let label = match &self.label {
            Some(name) => {
                let i = find(path, schema, name, "the label column")?;
                Some(schema.field(i).name().clone())
            }
            None => None,
        };
        let from = self
            .features_from
            .clone()
            .unwrap_or_else(|| "the feature names".to_owned());
        let mut left_out = None;
        let features: Vec<String> = match &self.features {
            Some(list) => {
                if list.is_empty() {
                    return Err(schema_error(path, format!("{from} name no column")));
                }
                let mut seen: Vec<&str> = Vec::new();
                for name in list {
                    find(path, schema, name, &from)?;
                    if label.as_deref() == Some(name.as_str()) {
                        return Err(schema_error(
                            path,
                            format!(
                                "column {name:?} is the label column; it cannot also be a feature"
                            ),
                        ));
                    }
                    if seen.contains(&name.as_str()) {
                        return Err(schema_error(
                            path,
                            format!("column {name:?} is named twice in {from}"),
                        ));
                    }
                    seen.push(name);
                }
                list.clone()
            }
            None => {
                if self.label_by_name && label.is_none() && schema.fields().len() > 1 {
                    left_out = schema
                        .fields()
                        .iter()
                        .find(|f| f.name().eq_ignore_ascii_case(LABEL_NAME))
                        .map(|f| f.name().clone());
                }
                let mut all: Vec<String> = Vec::new();
                for (i, f) in schema.fields().iter().enumerate() {
                    let name = f.name();
                    if Some(name) == label.as_ref() || Some(name) == left_out.as_ref() {
                        continue;
                    }
                    // A model's feature names pick columns later: they must
                    // be unique.
                    if let Some(k) = schema.fields()[..i].iter().position(|g| g.name() == name) {
                        return Err(schema_error(
                            path,
                            format!(
                                "column name {name:?} appears more than once (columns {} and \
                                 {}); rename one or pick the feature columns by name",
                                k + 1,
                                i + 1
                            ),
                        ));
                    }
                    all.push(name.clone());
                }
                if all.is_empty() {
                    return Err(schema_error(
                        path,
                        "no feature column: the only column is the label column".to_owned(),
                    ));
                }
                all
            }
        };
        for name in &features {
            let i = find(path, schema, name, &from)?;
            let t = schema.field(i).data_type();
            if !is_numeric(t) {
                return Err(schema_error(
                    path,
                    format!(
                        "column {name:?} holds {t} values, not numbers, so it cannot be a \
                         feature; pick the feature columns by name to leave it out"
                    ),
                ));
            }
        }
        let kept = self
            .keep
            .iter()
            .map(|k| {
                find(path, schema, k, "the kept columns").map(|i| schema.field(i).name().clone())
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Layout {
            features,
            label,
            kept,
            left_out,
        })
    }
}

/// How `other`'s columns differ from `first`'s (names and types, in any
/// order; nullability is not compared, since nulls are refused where they
/// occur), or `None` when they are the same.
pub fn schema_difference(first: &Schema, other: &Schema) -> Option<String> {
    let mut parts = Vec::new();
    let missing: Vec<&str> = first
        .fields()
        .iter()
        .filter(|f| other.field_with_name(f.name()).is_err())
        .map(|f| f.name().as_str())
        .collect();
    if !missing.is_empty() {
        parts.push(format!("it lacks the column(s) {}", missing.join(", ")));
    }
    let extra: Vec<&str> = other
        .fields()
        .iter()
        .filter(|f| first.field_with_name(f.name()).is_err())
        .map(|f| f.name().as_str())
        .collect();
    if !extra.is_empty() {
        parts.push(format!("it has the extra column(s) {}", extra.join(", ")));
    }
    for f in first.fields() {
        if let Ok(g) = other.field_with_name(f.name())
            && g.data_type() != f.data_type()
        {
            parts.push(format!(
                "column {:?} is {} here but {} there",
                f.name(),
                g.data_type(),
                f.data_type()
            ));
        }
    }
    if parts.is_empty() && first.fields().len() != other.fields().len() {
        // Only a repeated name can make the counts differ now.
        parts.push(format!(
            "it has {} columns where there are {}",
            other.fields().len(),
            first.fields().len()
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use arrow::datatypes::Field;

    fn schema(fields: &[(&str, DataType)]) -> Schema {
        Schema::new(
            fields
                .iter()
                .map(|(n, t)| Field::new(*n, t.clone(), true))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn default_reads_every_column_but_the_label() {
        let s = schema(&[
            ("x", DataType::Float64),
            ("Label", DataType::Int64),
            ("y", DataType::Int32),
        ]);
        let p = Path::new("a.parquet");
        let l = Columns {
            label_by_name: true,
            ..Columns::default()
        }
        .resolve(p, &s)
        .unwrap();
        assert_eq!(l.features, ["x", "y"]);
        assert_eq!(l.left_out.as_deref(), Some("Label"));
        // Without label_by_name the label column is a feature.
        let l = Columns::default().resolve(p, &s).unwrap();
        assert_eq!(l.features, ["x", "Label", "y"]);
        let l = Columns {
            label: Some("Label".into()),
            ..Columns::default()
        }
        .resolve(p, &s)
        .unwrap();
        assert_eq!((l.features.len(), l.label.as_deref()), (2, Some("Label")));
    }

    #[test]
    fn text_columns_and_missing_names_are_refused() {
        let s = schema(&[("x", DataType::Float64), ("id", DataType::Utf8)]);
        let p = Path::new("a.parquet");
        let e = Columns::default().resolve(p, &s).unwrap_err().to_string();
        assert!(
            e.contains("a.parquet") && e.contains("\"id\"") && e.contains("Utf8"),
            "{e}"
        );
        let ok = Columns {
            features: Some(vec!["x".into()]),
            keep: vec!["id".into()],
            ..Columns::default()
        }
        .resolve(p, &s)
        .unwrap();
        assert_eq!((ok.features.len(), ok.kept.len()), (1, 1));
        let e = Columns {
            features: Some(vec!["z".into()]),
            ..Columns::default()
        }
        .resolve(p, &s)
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("no column named \"z\"") && e.contains("x, id"),
            "{e}"
        );
    }

    #[test]
    fn differences_are_named() {
        let a = schema(&[("x", DataType::Float64), ("y", DataType::Float64)]);
        let b = schema(&[("y", DataType::Float64), ("x", DataType::Float64)]);
        assert_eq!(schema_difference(&a, &b), None);
        let c = schema(&[("x", DataType::Float32), ("z", DataType::Float64)]);
        let d = schema_difference(&a, &c).unwrap();
        assert!(d.contains("lacks the column(s) y"), "{d}");
        assert!(d.contains("extra column(s) z"), "{d}");
        assert!(d.contains("\"x\" is Float32 here but Float64 there"), "{d}");
    }
}
