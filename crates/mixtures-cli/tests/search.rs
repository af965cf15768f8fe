//! `fit`'s automatic choice on a sample of the rows (`--search-rows`): the
//! summary says so, the model is the refit, and the flag is refused where
//! nothing is chosen.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::*;

#[test]
fn fit_searches_on_a_sample_and_refits_the_choice_on_every_row() {
    let dir = temp_dir("search");
    let data = clusters_csv(&dir, 200, 0);
    let model = dir.join("model.json");
    let base = [
        "fit",
        s(&data),
        "-o",
        s(&model),
        "--columns",
        "a,b,c",
        "--max-components",
        "4",
        "--json",
    ];
    let with = |extra: &[&'static str]| -> Vec<&str> {
        base.iter().copied().chain(extra.iter().copied()).collect()
    };
    let v = json(&ok(&with(&["--search-rows", "300"])));
    let search = &v["selection"]["search"];
    assert_eq!(search["rows"], 300, "{v}");
    assert_eq!(search["total_rows"], 600, "{v}");
    assert!(search["value"].as_f64().unwrap().is_finite(), "{v}");
    let all = json(&ok(&with(&["--search-rows", "0"])));
    assert_eq!(all["selection"]["search"], serde_json::Value::Null);
    // The default limit is above these 600 rows: every candidate sees every row.
    let default = json(&ok(&with(&[])));
    assert_eq!(default["selection"]["search"], serde_json::Value::Null);
    assert_eq!(default["selection"]["k"], all["selection"]["k"]);
    // The model written is the chosen cell refitted on every row. (These
    // sinusoidal clusters are not Gaussian: 600 rows support a fourth
    // component that 300 do not, the rule's documented cost.)
    assert_eq!(v["components"], v["selection"]["k"]);
    let text = ok(&[
        "fit",
        s(&data),
        "-o",
        s(&model),
        "--columns",
        "a,b,c",
        "--max-components",
        "3",
        "--search-rows",
        "300",
    ]);
    assert!(
        text.contains("candidates fitted on 300 of 600 rows"),
        "{text}"
    );
    // A fixed model has no search: the flag is refused, not ignored.
    bad(
        &[
            "fit",
            s(&data),
            "-o",
            s(&model),
            "--columns",
            "a,b,c",
            "-k",
            "2",
            "--search-rows",
            "100",
        ],
        &["--search-rows"],
    );
}
