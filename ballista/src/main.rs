//! EM on a Ballista cluster: a scheduler and two executors started as
//! processes on this machine, each with mixtures-datafusion's functions
//! compiled in and a plan codec that ships them (their model) inside the
//! plans; the client fits a Gaussian mixture to Parquet files through
//! `DataFusionReducer` on a Ballista `SessionContext` (one distributed
//! aggregate query per EM iteration), scores the rows with `mixture_score`
//! on the cluster, and checks both against the local, in-memory results.
//!
//! ```sh
//! cd ballista && cargo run --release              # the whole demonstration
//! cargo run --release -- scheduler PORT           # one scheduler
//! cargo run --release -- executor PORT GRPC_PORT SCHEDULER_PORT WORK_DIR
//! ```
//!
//! Why a codec: the E-step's aggregate is built for one model, which changes
//! every iteration, so it cannot be registered once by name in the
//! executors. `MixturesLogicalCodec` and `MixturesPhysicalCodec` write
//! `EmStep::to_bytes` / `MixtureScore::to_bytes` (the model as a JSON model
//! file) into the plan and rebuild the functions from them; the client, the
//! scheduler and the executors all run with them (every other plan node goes
//! to Ballista's own codecs).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::{Result, TableReference};
use datafusion::datasource::TableProvider;
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::execution::{SessionStateBuilder, TaskContext};
use datafusion::logical_expr::{AggregateUDF, Extension, LogicalPlan, ScalarUDF};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};
use mixtures_core::Dataset;
use mixtures_datafusion::{DataFusionReducer, EmStep, MixtureScore};
use mixtures_em::{Covariance, GaussianMixture};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

/// Ballista's logical codec, plus the mixture functions with their models.
#[derive(Debug, Default)]
struct MixturesLogicalCodec(BallistaLogicalExtensionCodec);

impl LogicalExtensionCodec for MixturesLogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        self.0.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.0.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        self.0
            .try_decode_table_provider(buf, table_ref, schema, ctx)
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.0.try_encode_table_provider(table_ref, node, buf)
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        self.0.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        self.0.try_encode_file_format(buf, node)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        decode_udf(name, buf, || self.0.try_decode_udf(name, buf))
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_udf(node, buf, |b| self.0.try_encode_udf(node, b))
    }

    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        decode_udaf(name, buf, || self.0.try_decode_udaf(name, buf))
    }

    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_udaf(node, buf, |b| self.0.try_encode_udaf(node, b))
    }
}

/// Ballista's physical codec, plus the mixture functions with their models.
#[derive(Debug, Default)]
struct MixturesPhysicalCodec(BallistaPhysicalExtensionCodec);

impl PhysicalExtensionCodec for MixturesPhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.0.try_decode(buf, inputs, ctx, proto_converter)
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        self.0.try_encode(node, buf, proto_converter)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        decode_udf(name, buf, || self.0.try_decode_udf(name, buf))
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_udf(node, buf, |b| self.0.try_encode_udf(node, b))
    }

    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        decode_udaf(name, buf, || self.0.try_decode_udaf(name, buf))
    }

    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_udaf(node, buf, |b| self.0.try_encode_udaf(node, b))
    }
}

// The functions' bytes start with their own magic ("MXES", "MXSC"), so
// anything else goes to Ballista's codec.

fn decode_udf(
    name: &str,
    buf: &[u8],
    other: impl FnOnce() -> Result<Arc<ScalarUDF>>,
) -> Result<Arc<ScalarUDF>> {
    if buf.starts_with(b"MXSC") {
        return Ok(Arc::new(MixtureScore::from_bytes(buf)?.udf()));
    }
    let _ = name;
    other()
}

fn encode_udf(
    node: &ScalarUDF,
    buf: &mut Vec<u8>,
    other: impl FnOnce(&mut Vec<u8>) -> Result<()>,
) -> Result<()> {
    match MixtureScore::of(node) {
        Some(f) => {
            buf.extend_from_slice(&f.to_bytes());
            Ok(())
        }
        None => other(buf),
    }
}

fn decode_udaf(
    name: &str,
    buf: &[u8],
    other: impl FnOnce() -> Result<Arc<AggregateUDF>>,
) -> Result<Arc<AggregateUDF>> {
    if buf.starts_with(b"MXES") {
        return Ok(Arc::new(EmStep::from_bytes(buf)?.udaf()));
    }
    let _ = name;
    other()
}

fn encode_udaf(
    node: &AggregateUDF,
    buf: &mut Vec<u8>,
    other: impl FnOnce(&mut Vec<u8>) -> Result<()>,
) -> Result<()> {
    match EmStep::of(node) {
        Some(f) => {
            buf.extend_from_slice(&f.to_bytes());
            Ok(())
        }
        None => other(buf),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(32 << 20)
        .build()
        .unwrap()
}

fn scheduler(port: u16) {
    let config = SchedulerConfig {
        bind_host: "127.0.0.1".into(),
        external_host: "localhost".into(),
        bind_port: port,
        override_logical_codec: Some(Arc::new(MixturesLogicalCodec::default())),
        override_physical_codec: Some(Arc::new(MixturesPhysicalCodec::default())),
        ..SchedulerConfig::default()
    };
    runtime().block_on(async move {
        let cluster = BallistaCluster::new_from_config(&config).await.unwrap();
        let addr = format!("127.0.0.1:{port}").parse().unwrap();
        start_server(cluster, addr, Arc::new(config)).await.unwrap();
    });
}

fn executor(port: u16, grpc_port: u16, scheduler_port: u16, work: &Path) {
    let config = ExecutorProcessConfig {
        bind_host: "127.0.0.1".into(),
        external_host: Some("localhost".into()),
        port,
        grpc_port,
        scheduler_host: "localhost".into(),
        scheduler_port,
        work_dir: Some(work.to_str().unwrap().into()),
        override_logical_codec: Some(Arc::new(MixturesLogicalCodec::default())),
        override_physical_codec: Some(Arc::new(MixturesPhysicalCodec::default())),
        ..ExecutorProcessConfig::default()
    };
    runtime()
        .block_on(start_executor_process(Arc::new(config)))
        .unwrap();
}

/// A free TCP port (bound and released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16, what: &str) {
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "{what} did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Kills the processes when the demonstration ends, however it ends.
struct Cluster(Vec<Child>);

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Rows from a known 3-component mixture, in `files` Parquet files with a
/// row id.
fn write_data(dir: &Path, n: usize, d: usize, files: usize) -> Dataset<f64> {
    let mut rng = StdRng::seed_from_u64(7);
    let rows: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            let c = (i % 3) as f64;
            (0..d)
                .map(|j| {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    10.0 * c * ((j % 2) as f64 - 0.5) + (1.0 + 0.3 * c) * z + j as f64
                })
                .collect()
        })
        .collect();
    let data = Dataset::from_rows(&rows).unwrap();
    for f in 0..files {
        let (lo, hi) = (f * n / files, (f + 1) * n / files);
        let mut cols: Vec<(String, ArrayRef)> = vec![(
            "id".into(),
            Arc::new(Int64Array::from((lo as i64..hi as i64).collect::<Vec<_>>())),
        )];
        for j in 0..d {
            cols.push((
                format!("f{j}"),
                Arc::new(Float64Array::from(data.column(j)[lo..hi].to_vec())),
            ));
        }
        let batch = RecordBatch::try_from_iter(cols).unwrap();
        let file = std::fs::File::create(dir.join(format!("part-{f}.parquet"))).unwrap();
        let mut w = ArrowWriter::try_new(file, batch.schema(), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }
    data
}

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| {
                let p = e.path();
                if p.is_dir() { count_files(&p) } else { 1 }
            })
            .sum()
    })
}

fn demonstrate() {
    let exe = std::env::current_exe().unwrap();
    let (sp, e1, g1, e2, g2) = (
        free_port(),
        free_port(),
        free_port(),
        free_port(),
        free_port(),
    );
    let dir = tempfile::tempdir().unwrap();
    let work: Vec<_> = (1..=2)
        .map(|i| dir.path().join(format!("executor-{i}")))
        .collect();
    let mut cluster = Cluster(Vec::new());
    cluster.0.push(
        Command::new(&exe)
            .args(["scheduler", &sp.to_string()])
            .spawn()
            .unwrap(),
    );
    wait_for_port(sp, "the scheduler");
    for ((p, g), w) in [(e1, g1), (e2, g2)].into_iter().zip(&work) {
        std::fs::create_dir_all(w).unwrap();
        cluster.0.push(
            Command::new(&exe)
                .args(["executor", &p.to_string(), &g.to_string(), &sp.to_string()])
                .arg(w)
                .spawn()
                .unwrap(),
        );
        wait_for_port(p, "an executor");
    }
    println!(
        "scheduler on port {sp}, executors on ports {e1} and {e2} (processes {:?})",
        cluster.0.iter().map(Child::id).collect::<Vec<_>>()
    );

    let data_dir = dir.path().join("data");
    std::fs::create_dir_all(&data_dir).unwrap();
    let (n, d) = (30_000, 4);
    let data = write_data(&data_dir, n, d, 4);

    // The client: a Ballista context with the same codecs.
    let rt = runtime();
    let config = SessionConfig::new_with_ballista()
        .with_target_partitions(4)
        .with_ballista_logical_extension_codec(Arc::new(MixturesLogicalCodec::default()))
        .with_ballista_physical_extension_codec(Arc::new(MixturesPhysicalCodec::default()));
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .build();
    let ctx: SessionContext = rt
        .block_on(SessionContext::remote_with_state(
            &format!("df://localhost:{sp}"),
            state,
        ))
        .unwrap();
    rt.block_on(ctx.register_parquet(
        "points",
        data_dir.to_str().unwrap(),
        ParquetReadOptions::default(),
    ))
    .unwrap();

    // The distributed fit and the local one, from the same start.
    let params = GaussianMixture::params(3)
        .covariance(Covariance::Full)
        .seed(3)
        .tol(0.0)
        .max_iter(20);
    let start = GaussianMixture::params(3)
        .covariance(Covariance::Full)
        .seed(3)
        .max_iter(2)
        .fit(&data)
        .unwrap()
        .model;
    let t = Instant::now();
    let local = params.fit_from(&start, &data).unwrap();
    let t_local = t.elapsed();
    let driver = DataFusionReducer::from_sql(&ctx, "SELECT f0, f1, f2, f3 FROM points")
        .unwrap()
        .with_label("the Ballista table points");
    // Each query of the driver is a Ballista job.
    let plan = driver
        .run({
            let f = driver.frame().clone();
            async move { f.create_physical_plan().await }
        })
        .unwrap()
        .unwrap();
    println!("the driver's queries run as {}", plan.name());
    assert_eq!(plan.name(), "DistributedQueryExec");
    let t = Instant::now();
    let remote = params.fit_reduced_from(&start, &driver).unwrap();
    let t_remote = t.elapsed();
    let rel = |a: f64, b: f64| (a - b).abs() / a.abs().max(b.abs()).max(1e-300);
    let gap = rel(local.report.log_likelihood, remote.report.log_likelihood).max(
        local
            .model
            .largest_relative_difference(&remote.model)
            .unwrap_or(f64::INFINITY),
    );
    println!(
        "Ballista fit ({} iterations, {:.1} s): log-likelihood {:.10}; local fit ({} iterations, {:.3} s): {:.10}",
        remote.report.n_iter,
        t_remote.as_secs_f64(),
        remote.report.log_likelihood,
        local.report.n_iter,
        t_local.as_secs_f64(),
        local.report.log_likelihood
    );
    println!(
        "largest relative difference (weights, means, covariances, log-likelihood): {gap:.1e}"
    );
    assert!(gap < 1e-10 && local.report.n_iter == remote.report.n_iter);
    println!("the distributed fit equals the local fit");

    // Scores on the cluster against log_prob.
    ctx.register_udf(MixtureScore::new(remote.model.clone()).udf());
    let c = ctx.clone();
    let out = driver
        .run(async move {
            c.sql("SELECT id, mixture_score(f0, f1, f2, f3) AS score FROM points ORDER BY id")
                .await?
                .collect()
                .await
        })
        .unwrap()
        .unwrap();
    let expected = remote.model.log_prob(&data).unwrap();
    let mut worst = 0.0f64;
    let mut i = 0;
    for b in &out {
        let s = b.column(1).as_any().downcast_ref::<Float64Array>().unwrap();
        for r in 0..b.num_rows() {
            worst = worst.max(rel(-s.value(r), expected[i]));
            i += 1;
        }
    }
    assert_eq!(i, n);
    println!("mixture_score on the cluster equals -log_prob on {n} rows within {worst:.1e}");
    assert!(worst < 1e-12);
    // What each executor wrote (its shuffle files, by job): both worked.
    for (i, w) in work.iter().enumerate() {
        let files = count_files(w);
        println!("executor {} wrote {files} shuffle files", i + 1);
        assert!(files > 0);
    }
    drop(driver);
    drop(cluster);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port = |i: usize| args[i].parse::<u16>().unwrap();
    match args.get(1).map(String::as_str) {
        Some("scheduler") => scheduler(port(2)),
        Some("executor") => executor(port(2), port(3), port(4), Path::new(&args[5])),
        None | Some("fit") => demonstrate(),
        Some(other) => panic!(
            "unknown command {other}: scheduler PORT | executor PORT GRPC_PORT SCHEDULER_PORT WORK_DIR | fit"
        ),
    }
}
