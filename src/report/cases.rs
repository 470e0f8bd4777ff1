//! Reading a run's cases one at a time from its `run.json`, for readers whose memory
//! must stay flat in the number of cases (`merge`).

use std::io::BufReader;
use std::path::Path;

use serde::Deserializer;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::ReportError;
use super::model::CaseReport;

/// Visits the `cases` of a `run.json` one at a time, skipping everything else.
struct EachCase<'f> {
    each: &'f mut dyn FnMut(CaseReport) -> Result<(), String>,
}

impl<'de> DeserializeSeed<'de> for EachCase<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EachCase<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a run report")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "cases" {
                map.next_value_seed(CaseList {
                    each: &mut *self.each,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct CaseList<'f> {
    each: &'f mut dyn FnMut(CaseReport) -> Result<(), String>,
}

impl<'de> DeserializeSeed<'de> for CaseList<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for CaseList<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of cases")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(case) = seq.next_element::<CaseReport>()? {
            (self.each)(case).map_err(serde::de::Error::custom)?;
        }
        Ok(())
    }
}

/// Streams the cases of the run folder `dir`'s `run.json` into `each`, one at a time,
/// skipping everything else, so a reader holds one case however long the run. The first
/// error of `each` stops the reading and is returned inside `Ok`, apart from a malformed
/// `run.json`.
///
/// # Errors
/// When `run.json` cannot be opened or is not a run report.
pub fn stream_cases(
    dir: &Path,
    each: &mut dyn FnMut(CaseReport) -> Result<(), String>,
) -> Result<Result<(), String>, ReportError> {
    let path = dir.join("run.json");
    let file = std::fs::File::open(&path).map_err(|source| ReportError::Io {
        path: path.clone(),
        source,
    })?;
    let mut failed = None;
    let mut guarded = |case: CaseReport| {
        each(case).map_err(|e| {
            failed = Some(e);
            "stopped".to_string()
        })
    };
    let parsed = EachCase { each: &mut guarded }.deserialize(
        &mut serde_json::Deserializer::from_reader(BufReader::new(file)),
    );
    if let Some(e) = failed {
        return Ok(Err(e));
    }
    parsed.map_err(|source| ReportError::BadRunJson { path, source })?;
    Ok(Ok(()))
}
