//! The DataFusion driver against the in-memory fit: Parquet and CSV files,
//! several partitions and files, a view with casts; bad inputs refused; the
//! scoring UDF against `log_prob`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionConfig, SessionContext};
use mixtures_core::Dataset;
use mixtures_core::source::{Batch, Chunked, SourceError};
use mixtures_datafusion::{DataFusionReducer, EmStep, MixtureScore};
use mixtures_em::{Covariance, EStep, FitError, GaussianMixture, GaussianStats};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

fn blobs(n: usize, d: usize, seed: u64) -> Dataset<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let rows: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            let c = (i % 3) as f64;
            (0..d)
                .map(|j| {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    100.0 + 4.0 * c * ((j % 2) as f64 - 0.5) + (1.0 + 0.3 * c) * z + 0.2 * j as f64
                })
                .collect()
        })
        .collect();
    Dataset::from_rows(&rows).unwrap()
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-300)
}

fn names(d: usize) -> Vec<String> {
    (0..d).map(|j| format!("f{j}")).collect()
}

/// Rows `lo..hi` of `data` as a record batch of `Float64` columns `f0..`.
fn batch_of(data: &Dataset<f64>, lo: usize, hi: usize) -> RecordBatch {
    let cols: Vec<(String, ArrayRef)> = names(data.n_features())
        .into_iter()
        .enumerate()
        .map(|(j, n)| {
            let a: ArrayRef = Arc::new(Float64Array::from(data.column(j)[lo..hi].to_vec()));
            (n, a)
        })
        .collect();
    RecordBatch::try_from_iter(cols).unwrap()
}

/// `data` split into `files` Parquet files (`part-0.parquet`, ...) of row
/// groups of `group` rows.
fn write_parquet(dir: &Path, data: &Dataset<f64>, files: usize, group: usize) {
    let n = data.n_samples();
    for f in 0..files {
        let (lo, hi) = (f * n / files, (f + 1) * n / files);
        let batch = batch_of(data, lo, hi);
        let file = std::fs::File::create(dir.join(format!("part-{f}.parquet"))).unwrap();
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(group))
            .build();
        let mut w = ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }
}

/// `data` split into `files` CSV files with a header (values written with
/// Rust's shortest round-trip formatting, so they read back exactly).
fn write_csv(dir: &Path, data: &Dataset<f64>, files: usize) {
    let n = data.n_samples();
    for f in 0..files {
        let (lo, hi) = (f * n / files, (f + 1) * n / files);
        let mut text = names(data.n_features()).join(",");
        text.push('\n');
        for i in lo..hi {
            let row: Vec<String> = (0..data.n_features())
                .map(|j| format!("{}", data.column(j)[i]))
                .collect();
            text.push_str(&row.join(","));
            text.push('\n');
        }
        std::fs::write(dir.join(format!("part-{f}.csv")), text).unwrap();
    }
}

fn context(partitions: usize) -> SessionContext {
    SessionContext::new_with_config(
        SessionConfig::new()
            .with_target_partitions(partitions)
            .with_batch_size(256),
    )
}

fn register_parquet(ctx: &SessionContext, name: &str, dir: &Path) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(ctx.register_parquet(name, dir.to_str().unwrap(), ParquetReadOptions::default()))
        .unwrap();
}

fn register_csv(ctx: &SessionContext, name: &str, dir: &Path) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(ctx.register_csv(
        name,
        dir.to_str().unwrap(),
        CsvReadOptions::new().file_extension(".csv"),
    ))
    .unwrap();
}

fn sql(ctx: &SessionContext, q: &str) -> datafusion::error::Result<Vec<RecordBatch>> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async { ctx.sql(q).await?.collect().await })
}

/// Fits with the driver over `table` and in memory, from the same start,
/// and checks they agree within 1e-10.
fn check_warm_fit(
    ctx: &SessionContext,
    table: &str,
    data: &Dataset<f64>,
    cov: Covariance,
    what: &str,
) {
    let params = GaussianMixture::params(3)
        .covariance(cov)
        .seed(5)
        .tol(0.0)
        .max_iter(12);
    let start = GaussianMixture::params(3)
        .covariance(cov)
        .seed(5)
        .max_iter(2)
        .fit(data)
        .unwrap()
        .model;
    let memory = params.fit_from(&start, data).unwrap();
    let driver = DataFusionReducer::from_table(ctx, table).unwrap();
    let fitted = params.fit_reduced_from(&start, &driver).unwrap();
    let gap = memory
        .model
        .largest_relative_difference(&fitted.model)
        .unwrap();
    assert!(gap < 1e-10, "{what} {cov:?}: {gap:e}");
    assert!(
        rel(memory.report.log_likelihood, fitted.report.log_likelihood) < 1e-10,
        "{what} {cov:?}: {} {}",
        memory.report.log_likelihood,
        fitted.report.log_likelihood
    );
    assert_eq!(memory.report.n_iter, fitted.report.n_iter, "{what} {cov:?}");
}

#[test]
fn parquet_fit_equals_in_memory_fit_for_any_partitioning() {
    let data = blobs(3000, 4, 1);
    let dir = tempfile::tempdir().unwrap();
    write_parquet(dir.path(), &data, 3, 700);
    for partitions in [1, 3, 4] {
        let ctx = context(partitions);
        register_parquet(&ctx, "t", dir.path());
        for cov in [
            Covariance::Full,
            Covariance::Diag,
            Covariance::Spherical,
            Covariance::Tied,
        ] {
            check_warm_fit(
                &ctx,
                "t",
                &data,
                cov,
                &format!("parquet, {partitions} partitions"),
            );
        }
    }
}

#[test]
fn csv_fit_equals_in_memory_fit() {
    let data = blobs(2000, 3, 2);
    let dir = tempfile::tempdir().unwrap();
    write_csv(dir.path(), &data, 2);
    for partitions in [1, 3] {
        let ctx = context(partitions);
        register_csv(&ctx, "t", dir.path());
        for cov in [Covariance::Full, Covariance::Diag] {
            check_warm_fit(
                &ctx,
                "t",
                &data,
                cov,
                &format!("csv, {partitions} partitions"),
            );
        }
    }
}

#[test]
fn a_fit_from_scratch_equals_the_batched_fit_of_the_same_rows() {
    // The initialization reads the rows in one partition, in file order: the
    // same start as an out-of-core fit of the rows in memory, whatever the
    // table's partitioning.
    let data = blobs(4000, 3, 3);
    let dir = tempfile::tempdir().unwrap();
    write_parquet(dir.path(), &data, 4, 900);
    let params = GaussianMixture::params(3).seed(9);
    let batched = params.fit_source(&Chunked::new(&data, 1000)).unwrap();
    for partitions in [1, 3, 4] {
        let ctx = context(partitions);
        register_parquet(&ctx, "t", dir.path());
        let driver = DataFusionReducer::from_table(&ctx, "t").unwrap();
        let fitted = params.fit_reduced(&driver).unwrap();
        let gap = batched
            .model
            .largest_relative_difference(&fitted.model)
            .unwrap();
        assert!(gap < 1e-10, "{partitions} partitions: {gap:e}");
        assert_eq!(batched.report.n_iter, fitted.report.n_iter);
    }
}

#[test]
fn a_view_that_selects_and_casts_the_features() {
    // Parquet with an integer feature, a text label and an id; the view
    // selects the features and casts the integer one.
    let base = blobs(2500, 3, 4);
    let mut rows: Vec<Vec<f64>> = (0..base.n_samples())
        .map(|i| (0..3).map(|j| base.column(j)[i]).collect())
        .collect();
    for r in &mut rows {
        r[0] = (r[0] * 100.0).round();
    }
    let data = Dataset::from_rows(&rows).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("label", DataType::Utf8, false),
        Field::new("a", DataType::Int64, false),
        Field::new("b", DataType::Float64, false),
        Field::new("c", DataType::Float64, false),
    ]));
    for f in 0..2 {
        let (lo, hi) = (f * 1250, (f + 1) * 1250);
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from((lo as i64..hi as i64).collect::<Vec<_>>())),
                Arc::new(StringArray::from(vec!["ok"; hi - lo])),
                Arc::new(Int64Array::from(
                    rows[lo..hi].iter().map(|r| r[0] as i64).collect::<Vec<_>>(),
                )),
                Arc::new(Float64Array::from(data.column(1)[lo..hi].to_vec())),
                Arc::new(Float64Array::from(data.column(2)[lo..hi].to_vec())),
            ],
        )
        .unwrap();
        let file = std::fs::File::create(dir.path().join(format!("part-{f}.parquet"))).unwrap();
        let mut w = ArrowWriter::try_new(file, schema.clone(), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }
    let ctx = context(3);
    register_parquet(&ctx, "raw", dir.path());
    sql(
        &ctx,
        "CREATE VIEW v AS SELECT CAST(a AS DOUBLE) AS a, b, c FROM raw WHERE label = 'ok'",
    )
    .unwrap();
    check_warm_fit(&ctx, "v", &data, Covariance::Full, "view with a cast");
    // Without the cast the driver casts the integer column itself; the text
    // column is refused by name.
    let driver = DataFusionReducer::from_sql(&ctx, "SELECT a, b, c FROM raw").unwrap();
    assert_eq!(driver.feature_names(), ["a", "b", "c"]);
    let e = DataFusionReducer::from_sql(&ctx, "SELECT a, label FROM raw").unwrap_err();
    assert!(
        matches!(&e, SourceError::Schema { message, .. } if message.contains("label") && message.contains("Utf8")),
        "{e}"
    );
}

fn table_with(ctx: &SessionContext, name: &str, a: Vec<Option<f64>>, b: Vec<f64>) {
    let batch = RecordBatch::try_from_iter([
        ("a", Arc::new(Float64Array::from(a)) as ArrayRef),
        ("b", Arc::new(Float64Array::from(b)) as ArrayRef),
    ])
    .unwrap();
    ctx.register_batch(name, batch).unwrap();
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    let ctx = context(2);
    let n = 300;
    let b: Vec<f64> = (0..n).map(|i| (i as f64 * 0.3).sin()).collect();
    let mut a: Vec<Option<f64>> = (0..n).map(|i| Some((i as f64 * 0.7).cos())).collect();
    table_with(&ctx, "good", a.clone(), b.clone());
    a[123] = None;
    table_with(&ctx, "nulls", a.clone(), b.clone());
    a[123] = Some(f64::NAN);
    table_with(&ctx, "nans", a, b.clone());
    let text = RecordBatch::try_from_iter([
        ("a", Arc::new(StringArray::from(vec!["x"; 3])) as ArrayRef),
        ("b", Arc::new(Float64Array::from(vec![1.0; 3])) as ArrayRef),
    ])
    .unwrap();
    ctx.register_batch("text", text).unwrap();
    let params = GaussianMixture::params(2).seed(1);

    // A non-numeric column.
    let e = DataFusionReducer::from_table(&ctx, "text").unwrap_err();
    assert!(
        matches!(&e, SourceError::Schema { message, .. } if message.contains("column a")),
        "{e}"
    );
    // A NULL: named by its row.
    let driver = DataFusionReducer::from_table(&ctx, "nulls").unwrap();
    let e = params.fit_reduced(&driver).unwrap_err();
    assert!(
        matches!(&e, FitError::Source(SourceError::Read { location, message })
            if location.contains("row 123") && message.contains("NULL")),
        "{e}"
    );
    // A NaN: named by its row and column.
    let driver = DataFusionReducer::from_table(&ctx, "nans").unwrap();
    let e = params.fit_reduced(&driver).unwrap_err();
    assert!(
        matches!(&e, FitError::Source(SourceError::NonFinite { location, column, .. })
            if location.contains("row 123") && column == "a"),
        "{e}"
    );
    // An empty table (a filter that keeps nothing).
    let driver = DataFusionReducer::from_sql(&ctx, "SELECT a, b FROM good WHERE a > 10").unwrap();
    let e = params.fit_reduced(&driver).unwrap_err();
    assert!(
        matches!(&e, FitError::Source(SourceError::Empty { .. })),
        "{e}"
    );
    // An unknown table, a query that does not plan.
    assert!(DataFusionReducer::from_table(&ctx, "missing").is_err());
    assert!(DataFusionReducer::from_sql(&ctx, "SELECT nope FROM good").is_err());

    // The aggregate itself, in SQL: a NULL, a NaN, a text column, the wrong
    // number of columns are errors.
    let rows: Vec<[f64; 2]> = (0..n).map(|i| [(i as f64 * 0.7).cos(), b[i]]).collect();
    let model = GaussianMixture::params(2)
        .seed(1)
        .fit(&Dataset::from_rows(&rows).unwrap())
        .unwrap()
        .model;
    ctx.register_udaf(EmStep::new(EStep::Gaussian(&model), true).udaf());
    for (q, what) in [
        ("SELECT mixture_em_step(a, b) FROM nulls", "NULL"),
        ("SELECT mixture_em_step(a, b) FROM nans", "not finite"),
        ("SELECT mixture_em_step(a, b) FROM text", "not a number"),
        ("SELECT mixture_em_step(a) FROM good", "2 feature columns"),
    ] {
        let e = sql(&ctx, q).unwrap_err().to_string();
        assert!(e.contains(what), "{q}: {e}");
    }
    // And the scores: a text column, a NaN are errors; a NULL scores NULL.
    ctx.register_udf(MixtureScore::new(model).udf());
    let e = sql(&ctx, "SELECT mixture_score(a, b) FROM nans")
        .unwrap_err()
        .to_string();
    assert!(e.contains("not finite"), "{e}");
    let e = sql(&ctx, "SELECT mixture_score(a, b) FROM text")
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a number"), "{e}");
    let out = sql(&ctx, "SELECT mixture_score(a, b) AS s FROM nulls").unwrap();
    let nulls: usize = out.iter().map(|b| b.column(0).null_count()).sum();
    assert_eq!(nulls, 1);
}

#[test]
fn the_aggregate_merges_partial_statistics_exactly() {
    let data = blobs(1500, 3, 6);
    let model = GaussianMixture::params(3).seed(2).fit(&data).unwrap().model;
    let dir = tempfile::tempdir().unwrap();
    write_parquet(dir.path(), &data, 3, 200);
    let e = EStep::Gaussian(&model);
    let mut whole = GaussianStats::new(e, true);
    whole
        .accumulate(
            e,
            Batch {
                rows: data.view(),
                weights: None,
                first: 0,
            },
        )
        .unwrap();
    for partitions in [1, 4] {
        let ctx = context(partitions);
        register_parquet(&ctx, "t", dir.path());
        let step = EmStep::new(e, true);
        // Through the bytes, as a codec would ship it.
        let udaf = step.udaf();
        let found = EmStep::of(&udaf).unwrap();
        let shipped = EmStep::from_bytes(&found.to_bytes()).unwrap();
        assert_eq!(shipped.n_features(), 3);
        ctx.register_udaf(shipped.udaf());
        let out = sql(&ctx, "SELECT mixture_em_step(f0, f1, f2) FROM t").unwrap();
        let stats = EmStep::stats_of_column(out[0].column(0), 0).unwrap();
        assert_eq!(stats.n_rows(), 1500);
        assert!(rel(stats.log_likelihood(), whole.log_likelihood()) < 1e-12);
        // Through the driver, twice: the same bits (each partition reads the
        // same rows, and partial states merge in an order fixed by their
        // bytes).
        let driver = DataFusionReducer::from_table(&ctx, "t").unwrap();
        let once = driver.e_step(e, true).unwrap();
        assert!(rel(once.log_likelihood(), whole.log_likelihood()) < 1e-12);
        for _ in 0..3 {
            let again = driver.e_step(e, true).unwrap();
            assert_eq!(again.to_bytes(), once.to_bytes());
        }
        // Per group.
        let out = sql(
            &ctx,
            "SELECT f0 > 100 AS g, mixture_em_step(f0, f1, f2) AS s FROM t GROUP BY f0 > 100",
        )
        .unwrap();
        let total: u64 = out
            .iter()
            .flat_map(|b| {
                (0..b.num_rows())
                    .map(move |r| EmStep::stats_of_column(b.column(1), r).unwrap().n_rows())
            })
            .sum();
        assert_eq!(total, 1500);
    }
}

#[test]
fn the_aggregate_accumulates_student_t_statistics() {
    let data = blobs(1200, 2, 9);
    let model = mixtures_em::StudentTMixture::params(2)
        .seed(4)
        .max_iter(5)
        .fit(&data)
        .unwrap()
        .model;
    let e = EStep::StudentT(&model);
    let mut whole = GaussianStats::new(e, true);
    whole
        .accumulate(
            e,
            Batch {
                rows: data.view(),
                weights: None,
                first: 0,
            },
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_parquet(dir.path(), &data, 2, 300);
    let ctx = context(3);
    register_parquet(&ctx, "t", dir.path());
    let step = EmStep::new(e, true);
    let shipped = EmStep::from_bytes(&step.to_bytes()).unwrap();
    for f in [step, shipped] {
        ctx.register_udaf(f.udaf());
        let out = sql(&ctx, "SELECT mixture_em_step(f0, f1) FROM t").unwrap();
        let stats = EmStep::stats_of_column(out[0].column(0), 0).unwrap();
        assert_eq!(stats.n_rows(), 1200);
        assert!(rel(stats.log_likelihood(), whole.log_likelihood()) < 1e-12);
    }
}

#[test]
fn the_score_udf_equals_log_prob() {
    let data = blobs(2000, 3, 7);
    let model = GaussianMixture::params(3)
        .covariance(Covariance::Full)
        .seed(2)
        .fit(&data)
        .unwrap()
        .model;
    let expected = model.log_prob(&data).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // With a row id, to put the rows back in order.
    for f in 0..3 {
        let (lo, hi) = (f * 2000 / 3, (f + 1) * 2000 / 3);
        let mut cols: Vec<(String, ArrayRef)> = vec![(
            "id".into(),
            Arc::new(Int64Array::from((lo as i64..hi as i64).collect::<Vec<_>>())),
        )];
        for j in 0..3 {
            cols.push((
                format!("f{j}"),
                Arc::new(Float64Array::from(data.column(j)[lo..hi].to_vec())),
            ));
        }
        let batch = RecordBatch::try_from_iter(cols).unwrap();
        let file = std::fs::File::create(dir.path().join(format!("part-{f}.parquet"))).unwrap();
        let mut w = ArrowWriter::try_new(file, batch.schema(), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }
    let model_file = dir.path().join("model.json");
    mixtures_dist::AnyMixture::from(model.clone())
        .save(&model_file)
        .unwrap();
    for partitions in [1, 4] {
        let ctx = context(partitions);
        register_parquet(&ctx, "t", dir.path());
        ctx.register_udf(MixtureScore::new(model.clone()).udf());
        ctx.register_udf(
            MixtureScore::load(&model_file)
                .unwrap()
                .with_name("from_file")
                .udf(),
        );
        let out = sql(
            &ctx,
            "SELECT *, mixture_score(f0, f1, f2) AS s, from_file(f0, f1, f2) AS s2 FROM t ORDER BY id",
        )
        .unwrap();
        let mut i = 0;
        for b in &out {
            let s = b
                .column_by_name("s")
                .unwrap()
                .as_any()
                .downcast_ref::<Float64Array>()
                .unwrap();
            let s2 = b
                .column_by_name("s2")
                .unwrap()
                .as_any()
                .downcast_ref::<Float64Array>()
                .unwrap();
            for r in 0..b.num_rows() {
                assert!(
                    rel(-s.value(r), expected[i]) < 1e-12,
                    "row {i}: {} {}",
                    s.value(r),
                    expected[i]
                );
                assert_eq!(s.value(r), s2.value(r));
                i += 1;
            }
        }
        assert_eq!(i, 2000);
    }
    // Through the bytes.
    let f = MixtureScore::new(model.clone()).with_name("shipped");
    let udf = f.udf();
    let back = MixtureScore::from_bytes(&MixtureScore::of(&udf).unwrap().to_bytes()).unwrap();
    assert_eq!(back.udf().name(), "shipped");
    assert_eq!(back.model(), f.model());
}

#[test]
fn rows_stream_in_order_and_the_row_count_is_checked() {
    let data = blobs(1200, 2, 8);
    let dir = tempfile::tempdir().unwrap();
    write_csv(dir.path(), &data, 2);
    // Without DataFusion's cache of file lists, so that a file added later
    // is read by the next query.
    let runtime = datafusion::execution::runtime_env::RuntimeEnvBuilder::new()
        .with_cache_manager(
            datafusion::execution::cache::cache_manager::CacheManagerConfig::default()
                .with_list_files_cache_limit(0),
        )
        .build_arc()
        .unwrap();
    let ctx = SessionContext::new_with_config_rt(
        SessionConfig::new()
            .with_target_partitions(3)
            .with_batch_size(256),
        runtime,
    );
    register_csv(&ctx, "t", dir.path());
    let driver = DataFusionReducer::from_table(&ctx, "t").unwrap();
    let rows = mixtures_em::StatsReducer::rows(&driver);
    assert_eq!(rows.n_features(), 2);
    let mut seen = Vec::new();
    rows.for_each_batch(&mut |b| {
        assert_eq!(b.first as usize, seen.len());
        for i in 0..b.rows.nrows() {
            seen.push(b.rows[(i, 1)]);
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(seen, data.column(1));
    // An error of the reader stops the pass and comes back.
    let e = rows
        .for_each_batch(&mut |_| Err(SourceError::Consumer("stop".into())))
        .unwrap_err();
    assert_eq!(e, SourceError::Consumer("stop".into()));
    // Rows added after the first pass: the aggregate sees more rows.
    std::fs::write(dir.path().join("part-9.csv"), "f0,f1\n1.0,2.0\n").unwrap();
    let model = GaussianMixture::params(2).seed(1).fit(&data).unwrap().model;
    let e = driver.e_step(EStep::Gaussian(&model), true).unwrap_err();
    assert!(
        matches!(
            e,
            FitError::Source(SourceError::Changed {
                first_rows: 1200,
                rows: 1201,
                ..
            })
        ),
        "{e}"
    );
}
