//! The build-identifying values a provider reported, as a small sorted list.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Names (lowercase) and values, sorted by name, each name once. A list rather than a
/// `BTreeMap`: a run holds one per baseline and candidate sample, usually with one to
/// three entries, and a map's smallest node is over half a kilobyte.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    /// Sets `name` to `value`, replacing an earlier value.
    pub fn insert(&mut self, name: String, value: String) {
        match self.0.binary_search_by(|(k, _)| k.as_str().cmp(&name)) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (name, value)),
        }
    }

    /// The value of `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&String> {
        self.0
            .binary_search_by(|(k, _)| k.as_str().cmp(name))
            .ok()
            .map(|i| &self.0[i].1)
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Records each string field `keys` of the JSON object `v` as `<prefix><key>`; absent
    /// and non-string fields are skipped.
    pub fn insert_fields(&mut self, prefix: &str, v: &serde_json::Value, keys: &[&str]) {
        for k in keys {
            if let Some(s) = v.get(k).and_then(serde_json::Value::as_str) {
                self.insert(format!("{prefix}{k}"), s.to_string());
            }
        }
    }

    /// Name and value pairs, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl std::ops::Index<&str> for Headers {
    type Output = String;

    /// # Panics
    /// When `name` is missing, like a map's index.
    fn index(&self, name: &str) -> &String {
        self.get(name)
            .unwrap_or_else(|| panic!("no header `{name}`"))
    }
}

impl FromIterator<(String, String)> for Headers {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        let mut h = Self::default();
        for (k, v) in iter {
            h.insert(k, v);
        }
        h.0.shrink_to_fit();
        h
    }
}

impl<const N: usize> From<[(String, String); N]> for Headers {
    fn from(pairs: [(String, String); N]) -> Self {
        pairs.into_iter().collect()
    }
}

impl IntoIterator for Headers {
    type Item = (String, String);
    type IntoIter = std::vec::IntoIter<(String, String)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl From<Headers> for BTreeMap<String, String> {
    fn from(h: Headers) -> Self {
        h.0.into_iter().collect()
    }
}

impl Serialize for Headers {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Headers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        BTreeMap::<String, String>::deserialize(d).map(|m| m.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_sorted_map_and_serialises_as_one() {
        let mut h: Headers = [("b".to_string(), "2".to_string())].into();
        h.insert("a".into(), "1".into());
        h.insert("b".into(), "3".into());
        assert_eq!(h["a"], "1");
        assert_eq!(h.get("b").map(String::as_str), Some("3"));
        assert_eq!(h.get("c"), None);
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(json, r#"{"a":"1","b":"3"}"#);
        assert_eq!(serde_json::from_str::<Headers>(&json).unwrap(), h);
    }
}
