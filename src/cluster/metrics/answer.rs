//! Prometheus's HTTP API answers (prometheus.io/docs/prometheus/latest/querying/api/):
//! `{"status": "success", "data": {"resultType": "matrix", "result": [{"metric": {…},
//! "values": [[1700000000, "1.5"], …]}]}}`, or `{"status": "error", "errorType": "bad_data",
//! "error": "…"}`.

use serde::Deserialize;

use crate::release::signals::Series;

#[derive(Debug, Deserialize)]
struct Answer {
    status: String,
    data: Option<Data>,
    #[serde(rename = "errorType")]
    error_type: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
enum Data {
    Matrix(Vec<RangeSeries>),
    Vector(Vec<InstantSample>),
    Scalar(Sample),
    String(serde::de::IgnoredAny),
}

#[derive(Debug, Deserialize)]
struct RangeSeries {
    values: Vec<Sample>,
}

#[derive(Debug, Deserialize)]
struct InstantSample {
    value: Sample,
}

/// `[1700000000.123, "1.5"]`: seconds, and the value as Go formats a float (`NaN`, `+Inf`).
#[derive(Debug, Deserialize)]
struct Sample(f64, String);

/// What one query answered: its one series (None when it matched none), or Prometheus's error
/// or a shape that is not one series, in words.
pub fn parse(body: &str) -> Result<Option<Series>, String> {
    let answer: Answer = serde_json::from_str(body)
        .map_err(|e| format!("the answer is not Prometheus's JSON ({e})"))?;
    if answer.status != "success" {
        return Err(format!(
            "{}: {}",
            answer.error_type.as_deref().unwrap_or("error"),
            answer.error.as_deref().unwrap_or("no reason given")
        ));
    }
    let samples: Vec<Sample> = match answer.data {
        None => return Err("the answer has no data".to_string()),
        Some(Data::Matrix(mut series)) => match series.len() {
            0 => return Ok(None),
            1 => series.swap_remove(0).values,
            n => return Err(too_many(n)),
        },
        Some(Data::Vector(mut samples)) => match samples.len() {
            0 => return Ok(None),
            1 => vec![samples.swap_remove(0).value],
            n => return Err(too_many(n)),
        },
        Some(Data::Scalar(sample)) => vec![sample],
        Some(Data::String(_)) => return Err("the query answers a string".to_string()),
    };
    let mut points = Vec::with_capacity(samples.len());
    for Sample(at, raw) in samples {
        let value = value_of(&raw).ok_or_else(|| format!("{raw:?} is not a sample value"))?;
        // NaN is "no value" (0/0: no requests); +Inf stays (past the histogram's last bucket).
        if !value.is_nan() {
            points.push((at.floor() as i64, value));
        }
    }
    Ok(Some(Series { points }))
}

fn too_many(n: usize) -> String {
    format!("the query answers {n} series; it must aggregate to one (e.g. sum(…))")
}

/// A sample value as Go's strconv.FormatFloat writes it: digits, `NaN`, `+Inf`, `-Inf`.
fn value_of(raw: &str) -> Option<f64> {
    match raw {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => raw.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_become_one_series_or_a_sentence() {
        let matrix = r#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{},"values":[[100,"1.5"],[130,"NaN"],[160,"+Inf"]]}]}}"#;
        assert_eq!(
            parse(matrix),
            Ok(Some(Series {
                points: vec![(100, 1.5), (160, f64::INFINITY)]
            }))
        );
        let vector = r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"a":"b"},"value":[100.5,"0.25"]}]}}"#;
        assert_eq!(
            parse(vector),
            Ok(Some(Series {
                points: vec![(100, 0.25)]
            }))
        );
        let empty = r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
        assert_eq!(parse(empty), Ok(None));
        let two = r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{},"value":[1,"1"]},{"metric":{},"value":[1,"2"]}]}}"#;
        assert_eq!(
            parse(two),
            Err("the query answers 2 series; it must aggregate to one (e.g. sum(…))".into())
        );
        let bad = r#"{"status":"error","errorType":"bad_data","error":"parse error at char 3"}"#;
        assert_eq!(parse(bad), Err("bad_data: parse error at char 3".into()));
        assert!(parse("<html>").is_err_and(|e| e.starts_with("the answer is not")));
    }
}
