//! Parquet and Arrow IPC sources against the same rows in memory: the values,
//! several files as one, the out-of-core fit equal to the in-memory fit from
//! the same start, and every bad input a typed error naming the file (and
//! the row).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::sync::Arc;

use common::*;
use mixtures_arrow::arrow::array::{
    ArrayRef, Float32Array, Float64Array, Int32Array, StringArray, UInt8Array,
};
use mixtures_arrow::{ArrowFiles, ArrowIpcSource, Columns, Format, ParquetSource, expand};
use mixtures_core::source::{RowSource, SourceError};
use mixtures_em::{Batched, Covariance, FitError, GaussianMixture};

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-300)
}

/// Every row of a source, row-major, through its batches.
fn rows_of(source: &dyn RowSource<f64>) -> Vec<f64> {
    let mut out = Vec::new();
    let mut next = 0;
    source
        .for_each_batch(&mut |b| {
            assert_eq!(b.first, next);
            next += b.rows.nrows() as u64;
            for i in 0..b.rows.nrows() {
                out.extend((0..b.rows.ncols()).map(|j| b.rows[(i, j)]));
            }
            Ok(())
        })
        .unwrap();
    out
}

#[test]
fn values_equal_the_rows_in_memory_in_every_format_and_batch_size() {
    let dir = tempdir("values");
    let data = blobs(1000, 3, 1);
    let pq = dir.join("a.parquet");
    write_parquet(&pq, &batches(&data, 300), 256);
    let ipc = dir.join("a.arrow");
    write_ipc(&ipc, &batches(&data, 70), false);
    let stream = dir.join("a.arrows");
    write_ipc(&stream, &batches(&data, 999), true);
    let expected = data.to_row_major();
    for batch in [1, 7, 256, 1000, 5000] {
        let p = ParquetSource::open(&[&pq], &Columns::default())
            .unwrap()
            .batch_rows(batch);
        assert_eq!(rows_of(&p), expected, "parquet, batches of {batch}");
        for path in [&ipc, &stream] {
            let a = ArrowIpcSource::open(&[path], &Columns::default())
                .unwrap()
                .batch_rows(batch);
            assert_eq!(
                rows_of(&a),
                expected,
                "{}, batches of {batch}",
                path.display()
            );
        }
    }
    let p = ParquetSource::open(&[&pq], &Columns::default()).unwrap();
    assert_eq!(p.files().n_rows(), Some(1000));
    let table = p.files().read_table::<f64>().unwrap();
    assert_eq!(table.data, data);
    assert_eq!(table.features, names(3));
    assert_eq!(table.labels, None);
}

#[test]
fn every_codec_users_write_is_read() {
    use mixtures_arrow::arrow::ipc::CompressionType;
    use mixtures_arrow::arrow::ipc::writer::{FileWriter, IpcWriteOptions};
    use mixtures_arrow::parquet::arrow::ArrowWriter;
    use mixtures_arrow::parquet::basic::{Compression, GzipLevel, ZstdLevel};
    use mixtures_arrow::parquet::file::properties::WriterProperties;
    let dir = tempdir("codecs");
    let data = blobs(500, 3, 6);
    let b = batch_of(&data, 0..500);
    for (name, codec) in [
        ("snappy", Compression::SNAPPY),
        ("zstd", Compression::ZSTD(ZstdLevel::default())),
        ("lz4raw", Compression::LZ4_RAW),
        ("lz4", Compression::LZ4),
        ("gzip", Compression::GZIP(GzipLevel::default())),
        ("none", Compression::UNCOMPRESSED),
    ] {
        let path = dir.join(format!("{name}.parquet"));
        let props = WriterProperties::builder().set_compression(codec).build();
        let mut w = ArrowWriter::try_new(
            std::fs::File::create(&path).unwrap(),
            b.schema(),
            Some(props),
        )
        .unwrap();
        w.write(&b).unwrap();
        w.close().unwrap();
        let t = ParquetSource::open(&[&path], &Columns::default())
            .unwrap()
            .files()
            .read_table::<f64>()
            .unwrap();
        assert_eq!(t.data, data, "{name}");
    }
    for (name, codec) in [
        ("lz4", CompressionType::LZ4_FRAME),
        ("zstd", CompressionType::ZSTD),
    ] {
        let path = dir.join(format!("{name}.feather"));
        let options = IpcWriteOptions::default()
            .try_with_compression(Some(codec))
            .unwrap();
        let mut w = FileWriter::try_new_with_options(
            std::fs::File::create(&path).unwrap(),
            &b.schema(),
            options,
        )
        .unwrap();
        w.write(&b).unwrap();
        w.finish().unwrap();
        let a = ArrowIpcSource::open(&[&path], &Columns::default()).unwrap();
        assert_eq!(rows_of(&a), data.to_row_major(), "{name}");
    }
}

#[test]
fn several_files_read_as_one_and_locate_names_the_file() {
    let dir = tempdir("several");
    let data = blobs(900, 2, 2);
    let mut paths = Vec::new();
    for (i, range) in [0..100, 100..101, 101..900].into_iter().enumerate() {
        let p = dir.join(format!("part-{i}.parquet"));
        write_parquet(&p, &[batch_of(&data, range)], 64);
        paths.push(p);
    }
    // Spark's marker files are not parts.
    std::fs::write(dir.join("_SUCCESS"), b"").unwrap();
    assert_eq!(expand(dir.to_str().unwrap()).unwrap(), paths);
    let glob = format!("{}/part-*.parquet", dir.display());
    assert_eq!(expand(&glob).unwrap(), paths);
    assert!(expand(&format!("{}/none-*.parquet", dir.display())).is_err());

    let many = ParquetSource::open(&paths, &Columns::default())
        .unwrap()
        .batch_rows(50);
    assert_eq!(rows_of(&many), data.to_row_major());
    assert_eq!(many.files().read_table::<f64>().unwrap().data, data);
    let at = RowSource::<f64>::locate(&many, 150);
    assert_eq!(at, format!("{}, row 49", paths[2].display()));
    assert!(RowSource::<f64>::describe(&many).starts_with("3 Parquet files"));

    // Arrow IPC learns where its files start as it reads them.
    let ipc: Vec<_> = (0..2)
        .map(|i| {
            let p = dir.join(format!("p{i}.feather"));
            write_ipc(&p, &[batch_of(&data, i * 450..(i + 1) * 450)], false);
            p
        })
        .collect();
    let a = ArrowIpcSource::open(&ipc, &Columns::default()).unwrap();
    assert_eq!(rows_of(&a), data.to_row_major());
    let at = RowSource::<f64>::locate(&a, 451);
    assert_eq!(at, format!("{}, row 1", ipc[1].display()));
}

#[test]
fn out_of_core_fit_equals_the_in_memory_fit_from_the_same_start() {
    let dir = tempdir("fit");
    let data = blobs(3000, 4, 3);
    let paths: Vec<_> = (0..3)
        .map(|i| {
            let p = dir.join(format!("d{i}.parquet"));
            write_parquet(
                &p,
                &batches(
                    &data
                        .select_rows(&(i * 1000..(i + 1) * 1000).collect::<Vec<_>>())
                        .unwrap(),
                    333,
                ),
                400,
            );
            p
        })
        .collect();
    for cov in [Covariance::Full, Covariance::Diag] {
        let params = GaussianMixture::params(3)
            .covariance(cov)
            .seed(5)
            .tol(0.0)
            .max_iter(12);
        let start = GaussianMixture::params(3)
            .covariance(cov)
            .seed(5)
            .max_iter(2)
            .fit(&data)
            .unwrap()
            .model;
        let memory = params.fit_from(&start, &data).unwrap();
        for batch in [7, 512, 5000] {
            let source = ParquetSource::open(&paths, &Columns::default())
                .unwrap()
                .batch_rows(batch);
            let fitted = params
                .fit_reduced_from(&start, &Batched::new(&source))
                .unwrap();
            let gap = memory
                .model
                .largest_relative_difference(&fitted.model)
                .unwrap();
            assert!(gap < 1e-10, "{cov:?}, batches of {batch}: {gap:e}");
            assert!(rel(memory.report.log_likelihood, fitted.report.log_likelihood) < 1e-10);
            assert_eq!(memory.report.n_iter, fitted.report.n_iter);
        }
    }
    // From its own start too, whatever the batches.
    let params = GaussianMixture::params::<f64>(3).seed(2);
    let one = ParquetSource::open(&paths, &Columns::default()).unwrap();
    let a = params.fit_source(&one.batch_rows(100)).unwrap();
    let other = ParquetSource::open(&paths, &Columns::default()).unwrap();
    let b = params.fit_source(&other.batch_rows(1000)).unwrap();
    assert!(a.model.largest_relative_difference(&b.model).unwrap() < 1e-10);
}

#[test]
fn integer_and_single_precision_columns_and_labels() {
    let dir = tempdir("types");
    let path = dir.join("t.parquet");
    let cols: Vec<(String, ArrayRef)> = vec![
        ("a".into(), Arc::new(Int32Array::from(vec![1, -2, 3]))),
        (
            "b".into(),
            Arc::new(Float32Array::from(vec![0.5f32, 1.5, 2.5])),
        ),
        ("c".into(), Arc::new(UInt8Array::from(vec![7u8, 8, 9]))),
        (
            "id".into(),
            Arc::new(StringArray::from(vec!["r0", "r1", "r,2"])),
        ),
        (
            "Label".into(),
            Arc::new(StringArray::from(vec!["0", "true", "1"])),
        ),
    ];
    write_parquet(&path, &[batch(cols)], 2);
    let columns = Columns {
        features: Some(vec!["c".into(), "a".into(), "b".into()]),
        label: Some("Label".into()),
        keep: vec!["id".into()],
        ..Columns::default()
    };
    let files = ArrowFiles::open(&[&path], Format::Parquet, &columns).unwrap();
    let t = files.read_table::<f32>().unwrap();
    assert_eq!(
        t.data.to_row_major(),
        [7.0, 1.0, 0.5, 8.0, -2.0, 1.5, 9.0, 3.0, 2.5]
    );
    assert_eq!(t.labels.as_deref(), Some(&[0u8, 1, 1][..]));
    let mut kept = Vec::new();
    files
        .for_each_chunk::<f64>(true, &mut |c| {
            kept.extend_from_slice(c.kept);
            Ok(())
        })
        .unwrap();
    assert_eq!(kept, ["r0", "r1", "r,2"]);
    // By default the text column is refused, by name.
    let e = ArrowFiles::open(&[&path], Format::Parquet, &Columns::default()).unwrap_err();
    assert!(
        matches!(&e, SourceError::Schema { location, message }
            if location.ends_with("t.parquet") && message.contains("\"id\"")),
        "{e}"
    );
}

/// The error of opening `paths` and reading every row (in memory and
/// through a fit).
fn failure(paths: &[std::path::PathBuf], format: Format) -> (SourceError, Option<FitError>) {
    let files = match ArrowFiles::open(paths, format, &Columns::default()) {
        Ok(f) => f.batch_rows(4),
        Err(e) => return (e, None),
    };
    let table = files.read_table::<f64>().unwrap_err();
    let params: mixtures_em::GaussianParams<f64> = GaussianMixture::params(1);
    let fit = params.fit_source(&files).unwrap_err();
    (table, Some(fit))
}

#[test]
fn bad_inputs_are_typed_errors_naming_the_file_and_row() {
    let dir = tempdir("bad");
    let data = blobs(30, 2, 4);
    let good = dir.join("good.parquet");
    write_parquet(&good, &[batch_of(&data, 0..30)], 10);

    // Another file with other columns: named, with the difference.
    let other = dir.join("other.parquet");
    let f32col: ArrayRef = Arc::new(Float32Array::from(vec![1.0f32; 5]));
    let f64col: ArrayRef = Arc::new(Float64Array::from(vec![1.0; 5]));
    write_parquet(
        &other,
        &[batch(vec![
            ("x0".into(), f32col),
            ("x1".into(), f64col.clone()),
        ])],
        10,
    );
    let (e, _) = failure(&[good.clone(), other.clone()], Format::Parquet);
    let text = e.to_string();
    assert!(matches!(e, SourceError::Schema { .. }), "{text}");
    assert!(
        text.contains("other.parquet") && text.contains("\"x0\" is Float32"),
        "{text}"
    );

    // A null and a NaN: the file, its row and the column.
    for (name, value) in [("null.parquet", None), ("nan.parquet", Some(f64::NAN))] {
        let mut v: Vec<Option<f64>> = (0..12).map(|i| Some(i as f64)).collect();
        v[9] = value;
        let col: ArrayRef = Arc::new(Float64Array::from(v));
        let p = dir.join(name);
        let ok: ArrayRef = Arc::new(Float64Array::from(vec![2.0; 12]));
        write_parquet(&p, &[batch(vec![("x0".into(), ok), ("x1".into(), col)])], 5);
        let (table, fit) = failure(std::slice::from_ref(&p), Format::Parquet);
        let want = format!("{}, row 9", p.display());
        for e in [table.to_string(), fit.unwrap().to_string()] {
            assert!(e.contains(&want) && e.contains("x1"), "{name}: {e}");
        }
        if value.is_some() {
            assert!(matches!(table, SourceError::NonFinite { .. }));
        } else {
            assert!(table.to_string().contains("null"));
        }
    }

    // No rows: an empty source.
    let empty = dir.join("empty.parquet");
    write_parquet(&empty, &[batch_of(&data, 0..0)], 10);
    let (table, fit) = failure(std::slice::from_ref(&empty), Format::Parquet);
    assert!(matches!(table, SourceError::Empty { .. }), "{table}");
    assert!(
        matches!(fit, Some(FitError::Source(SourceError::Empty { .. }))),
        "{fit:?}"
    );

    // Missing, corrupt and truncated files, and a CSV file under a Parquet
    // name: read errors naming the file, never a panic.
    let corrupt = dir.join("corrupt.parquet");
    std::fs::write(&corrupt, b"PAR1 this is not a parquet file PAR1").unwrap();
    let truncated = dir.join("truncated.parquet");
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let csv = dir.join("text.parquet");
    std::fs::write(&csv, b"x0,x1\n1,2\n").unwrap();
    // A footer intact and pages overwritten: found while reading.
    let pages = dir.join("pages.parquet");
    let mut broken = bytes.clone();
    broken[8..200].fill(0xAB);
    std::fs::write(&pages, &broken).unwrap();
    let ipc_garbage = dir.join("garbage.arrow");
    std::fs::write(&ipc_garbage, b"ARROW1\0\0garbage").unwrap();
    for (p, format) in [
        (dir.join("missing.parquet"), Format::Parquet),
        (corrupt, Format::Parquet),
        (truncated, Format::Parquet),
        (pages, Format::Parquet),
        (csv, Format::Parquet),
        (ipc_garbage, Format::ArrowIpc),
        (dir.join("missing.arrow"), Format::ArrowIpc),
    ] {
        // A bad file after a good one of its format, or alone.
        let paths = match format {
            Format::Parquet => vec![good.clone(), p.clone()],
            Format::ArrowIpc => vec![p.clone()],
        };
        let (e, _) = failure(&paths, format);
        let name = p.file_name().unwrap().to_str().unwrap();
        assert!(
            matches!(&e, SourceError::Read { location, .. } if location.contains(name)),
            "{}: {e}",
            p.display()
        );
    }
}

#[test]
fn files_that_change_between_passes_are_refused() {
    let dir = tempdir("changed");
    let data = blobs(40, 2, 7);
    let path = dir.join("d.parquet");
    write_parquet(&path, &[batch_of(&data, 0..40)], 16);
    let source = ParquetSource::open(&[&path], &Columns::default())
        .unwrap()
        .batch_rows(8);
    let batched = Batched::<f64>::new(&source);
    batched.pass(&mut |_| Ok(())).unwrap();
    // The same columns, one value changed: the checksum differs.
    let mut other = data.to_row_major();
    other[17] += 1.0;
    let changed = mixtures_core::Dataset::from_row_major(&other, 40, 2).unwrap();
    write_parquet(&path, &[batch_of(&changed, 0..40)], 16);
    let e = batched.pass(&mut |_| Ok(())).unwrap_err();
    assert!(
        matches!(e, FitError::Source(SourceError::Changed { pass: 2, .. })),
        "{e}"
    );
    // Other columns: named before any row is read.
    let col: ArrayRef = Arc::new(Int32Array::from(vec![1; 40]));
    write_parquet(
        &path,
        &[batch(vec![("x0".into(), col.clone()), ("x1".into(), col)])],
        16,
    );
    let e = RowSource::<f64>::for_each_batch(&source, &mut |_| Ok(())).unwrap_err();
    assert!(
        matches!(&e, SourceError::Schema { message, .. } if message.contains("changed since")),
        "{e}"
    );
}

/// The rows of a pass (row-major), their labels and their kept text.
type Read = (Vec<f64>, Vec<u8>, Vec<String>);

/// Every row of a pass with its labels and kept text.
fn chunks_of(files: &ArrowFiles) -> Result<Read, SourceError> {
    let (mut rows, mut labels, mut kept) = (Vec::new(), Vec::new(), Vec::new());
    files.for_each_chunk::<f64>(true, &mut |c| {
        for i in 0..c.rows.nrows() {
            rows.extend((0..c.rows.ncols()).map(|j| c.rows[(i, j)]));
        }
        labels.extend_from_slice(c.labels.unwrap_or(&[]));
        kept.extend_from_slice(c.kept);
        Ok(())
    })?;
    Ok((rows, labels, kept))
}

#[test]
fn nulls_and_nan_in_features_are_missing_values_when_asked() {
    let dir = tempdir("missing");
    let x0: ArrayRef = Arc::new(Float64Array::from(vec![
        Some(1.5),
        None,
        Some(f64::NAN),
        Some(-4.0),
        None,
    ]));
    let x1: ArrayRef = Arc::new(Int32Array::from(vec![
        Some(10),
        Some(20),
        None,
        Some(40),
        None,
    ]));
    let id: ArrayRef = Arc::new(StringArray::from(vec![
        Some("a"),
        Some("b"),
        None,
        Some("d"),
        Some("e"),
    ]));
    let label: ArrayRef = Arc::new(Int32Array::from(vec![0, 1, 0, 0, 1]));
    let rb = batch(vec![
        ("x0".into(), x0),
        ("x1".into(), x1),
        ("id".into(), id),
        ("label".into(), label),
    ]);
    let pq = dir.join("m.parquet");
    write_parquet(&pq, std::slice::from_ref(&rb), 2);
    let ipc = dir.join("m.arrow");
    write_ipc(&ipc, std::slice::from_ref(&rb), false);
    let columns = Columns {
        features: Some(vec!["x0".into(), "x1".into()]),
        label: Some("label".into()),
        keep: vec!["id".into()],
        nulls_as_missing: true,
        ..Columns::default()
    };
    for (path, format) in [(&pq, Format::Parquet), (&ipc, Format::ArrowIpc)] {
        for per in [1, 2, 3, 64] {
            let files = ArrowFiles::open(&[path], format, &columns)
                .unwrap()
                .batch_rows(per);
            assert!(files.nulls_as_missing());
            let (rows, labels, kept) = chunks_of(&files).unwrap();
            let shown: Vec<Option<f64>> =
                rows.iter().map(|v| (!v.is_nan()).then_some(*v)).collect();
            assert_eq!(
                shown,
                [
                    Some(1.5),
                    Some(10.0),
                    None,
                    Some(20.0),
                    None,
                    None,
                    Some(-4.0),
                    Some(40.0),
                    None,
                    None
                ],
                "{} in batches of {per}",
                path.display()
            );
            assert_eq!(labels, [0, 1, 0, 0, 1]);
            assert_eq!(kept, ["a", "b", "", "d", "e"]);
        }
        // Without the option: today's error, naming the file, row and column.
        let plain = Columns {
            nulls_as_missing: false,
            ..columns.clone()
        };
        let files = ArrowFiles::open(&[path], format, &plain).unwrap();
        let e = chunks_of(&files).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains(&format!("{}, row 1", path.display()))
                && text.contains("\"x0\"")
                && text.contains("null"),
            "{text}"
        );
    }

    // A null label is refused with the option too; an infinity as well.
    let x: ArrayRef = Arc::new(Float64Array::from(vec![Some(1.0), None, Some(3.0)]));
    let label: ArrayRef = Arc::new(Int32Array::from(vec![Some(0), Some(1), None]));
    let p = dir.join("label.parquet");
    write_parquet(
        &p,
        &[batch(vec![("x".into(), x), ("label".into(), label)])],
        10,
    );
    let labelled = Columns {
        label: Some("label".into()),
        nulls_as_missing: true,
        ..Columns::default()
    };
    let e = chunks_of(&ArrowFiles::open(&[&p], Format::Parquet, &labelled).unwrap()).unwrap_err();
    let text = e.to_string();
    assert!(
        matches!(e, SourceError::Read { .. })
            && text.contains(&format!("{}, row 2", p.display()))
            && text.contains("\"label\"")
            && text.contains("missing label"),
        "{text}"
    );
    let inf: ArrayRef = Arc::new(Float64Array::from(vec![None, Some(f64::INFINITY)]));
    let p = dir.join("inf.parquet");
    write_parquet(&p, &[batch(vec![("x".into(), inf)])], 10);
    let missing = Columns {
        nulls_as_missing: true,
        ..Columns::default()
    };
    let e = chunks_of(&ArrowFiles::open(&[&p], Format::Parquet, &missing).unwrap()).unwrap_err();
    assert!(
        matches!(&e, SourceError::NonFinite { location, .. } if location.ends_with("inf.parquet, row 1")),
        "{e}"
    );
}
