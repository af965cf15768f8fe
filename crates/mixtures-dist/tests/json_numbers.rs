//! Numbers in files: the shortest text that reads back to the same value in
//! the model's precision (f32 too), compact files with an indented option,
//! and the one convention for infinities (`mixtures_dist::json`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use faer::mat;
use mixtures_dist::json::{self, float_from_json, float_to_json, shortest};
use mixtures_dist::{AnyMixture, Covariances, Gaussian, Mixture};
use rand::{Rng, SeedableRng};

#[test]
fn f32_values_are_written_in_their_own_shortest_form_and_read_back_exactly() {
    let g = Gaussian::<f32>::new(
        mat![[0.1, -2.5e-7], [3.0e30, 1.0 / 3.0]],
        Covariances::Diag(mat![[0.2, 1e-30], [7.0, 1.1]]),
    )
    .unwrap();
    let m = Mixture::new(vec![0.3f32, 0.7], g).unwrap();
    let text = m.to_json();
    assert!(text.contains("[0.1,-2.5e-7]"), "{text}");
    assert!(text.contains("0.33333334"), "{text}");
    assert!(!text.contains("0.10000000149011612"), "{text}");
    let back = AnyMixture::<f32>::from_json(&text).unwrap();
    assert_eq!(back, m.into());
}

/// Writing the `f64` of [`shortest`] and reading it as `f64` then rounding
/// to `f32` gives the same bits back: every exponent, random mantissas,
/// subnormals and the extremes.
#[test]
fn shortest_f32_text_round_trips_bit_for_bit() {
    let mut r = rand::rngs::StdRng::seed_from_u64(15);
    let check = |x: f32| {
        let text = serde_json::to_string(&float_to_json(shortest(x))).unwrap();
        let back = text.parse::<f64>().unwrap() as f32;
        assert_eq!(back.to_bits(), x.to_bits(), "{x:e} written as {text}");
        // At most f32's 9 significant digits (ryu may write them with
        // zeros before the point, as `-111480920000000.0`).
        let mantissa = text.split(['e', 'E']).next().unwrap();
        let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
        let significant = digits.trim_start_matches('0').trim_end_matches('0');
        assert!(significant.len() <= 9, "{x:e} written as {text}");
    };
    for x in [
        f32::MAX,
        f32::MIN,
        f32::MIN_POSITIVE,
        f32::EPSILON,
        1e-45,
        0.1,
        16777217.0,
    ] {
        check(x);
    }
    for _ in 0..2_000_000 {
        let x = f32::from_bits(r.random::<u32>());
        if x.is_finite() {
            check(x);
        }
    }
}

#[test]
fn f64_values_are_unchanged_by_shortest() {
    for x in [0.1, 1.0 / 3.0, f64::MAX, 5e-324, -0.0] {
        assert_eq!(shortest(x).to_bits(), x.to_bits());
    }
}

#[test]
fn infinities_and_nan_are_strings_and_read_back() {
    assert_eq!(float_to_json(f64::INFINITY), json::INF);
    assert_eq!(float_to_json(f64::NEG_INFINITY), json::NEG_INF);
    assert_eq!(float_to_json(f64::NAN), json::NAN);
    assert_eq!(float_to_json(-1.5).to_string(), "-1.5");
    for x in [f64::INFINITY, f64::NEG_INFINITY, 0.0, -3e-300, 1e300] {
        assert_eq!(float_from_json(&float_to_json(x)), Some(x));
    }
    assert!(float_from_json(&float_to_json(f64::NAN)).unwrap().is_nan());
    assert_eq!(float_from_json(&serde_json::Value::Null), None);
    assert_eq!(float_from_json(&"infinity".into()), None);

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Report {
        #[serde(with = "mixtures_dist::json::float")]
        log_likelihood: f64,
        #[serde(with = "mixtures_dist::json::floats")]
        trace: Vec<f64>,
    }
    let r = Report {
        log_likelihood: f64::NEG_INFINITY,
        trace: vec![f64::NEG_INFINITY, -2.5, f64::INFINITY],
    };
    let text = serde_json::to_string(&r).unwrap();
    assert_eq!(
        text,
        r#"{"log_likelihood":"-inf","trace":["-inf",-2.5,"inf"]}"#
    );
    assert_eq!(serde_json::from_str::<Report>(&text).unwrap(), r);
    assert!(serde_json::from_str::<Report>(r#"{"log_likelihood":null,"trace":[]}"#).is_err());
}

#[test]
fn model_files_are_compact_and_pretty_on_request() {
    let g = Gaussian::<f64>::new(
        mat![[0.0, 1.0]],
        Covariances::Full(vec![mat![[1.0, 0.5], [0.5, 2.0]]]),
    )
    .unwrap();
    let m: AnyMixture<f64> = Mixture::new(vec![1.0], g).unwrap().into();
    let (compact, pretty) = (m.to_json(), m.to_json_pretty());
    assert!(
        !compact.contains('\n') && !compact.contains(' '),
        "{compact}"
    );
    assert!(pretty.contains("\n  \"weights\""), "{pretty}");
    assert_eq!(AnyMixture::<f64>::from_json(&compact).unwrap(), m);
    assert_eq!(AnyMixture::<f64>::from_json(&pretty).unwrap(), m);
    let dir = std::env::temp_dir().join(format!("mixtures-json-numbers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    m.save(dir.join("c.json")).unwrap();
    m.save_pretty(dir.join("p.json")).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("c.json")).unwrap(),
        compact
    );
    assert_eq!(std::fs::read_to_string(dir.join("p.json")).unwrap(), pretty);
    std::fs::remove_dir_all(&dir).unwrap();
}
