//! A strict reader of the Prometheus text format 0.0.4, enough to check `/metrics`.

use std::collections::{BTreeMap, BTreeSet};

/// One sample line of the text format: name, labels (unescaped), value.
pub type Sample = (String, BTreeMap<String, String>, f64);

/// Parses a label set `{k="v",...}` starting after `{`; returns the labels and the rest.
fn parse_labels(mut s: &str) -> Result<(BTreeMap<String, String>, &str), String> {
    let mut labels = BTreeMap::new();
    loop {
        if let Some(rest) = s.strip_prefix('}') {
            return Ok((labels, rest));
        }
        let eq = s.find('=').ok_or("label without =")?;
        let key = &s[..eq];
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("bad label name {key:?}"));
        }
        let mut chars = s[eq + 1..]
            .strip_prefix('"')
            .ok_or("unquoted value")?
            .chars();
        let mut val = String::new();
        loop {
            match chars.next().ok_or("unterminated value")? {
                '"' => break,
                '\\' => match chars.next().ok_or("dangling escape")? {
                    '\\' => val.push('\\'),
                    '"' => val.push('"'),
                    'n' => val.push('\n'),
                    c => return Err(format!("bad escape \\{c}")),
                },
                '\n' => return Err("raw newline in value".into()),
                c => val.push(c),
            }
        }
        labels.insert(key.to_string(), val);
        s = chars.as_str();
        s = s.strip_prefix(',').unwrap_or(s);
    }
}

/// Every non-comment line must be `name{labels} value` with a float value, and every
/// sample's family must have `# HELP` and `# TYPE` lines before it.
pub fn parse_metrics(text: &str) -> Vec<Sample> {
    let mut typed = BTreeSet::new();
    let mut helped = BTreeSet::new();
    let mut out = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split(' ');
            let name = it.next().unwrap_or("");
            let kind = it.next().unwrap_or("");
            assert!(
                ["gauge", "counter"].contains(&kind),
                "bad TYPE line: {line}"
            );
            typed.insert(name.to_string());
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            helped.insert(rest.split(' ').next().unwrap_or("").to_string());
            continue;
        }
        assert!(!line.starts_with('#'), "unknown comment: {line}");
        let end = line
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(line.len());
        let name = &line[..end];
        assert!(
            !name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit()),
            "bad metric name: {line}"
        );
        let (labels, rest) = match line[end..].strip_prefix('{') {
            Some(l) => match parse_labels(l) {
                Ok(x) => x,
                Err(e) => panic!("{e}: {line}"),
            },
            None => (BTreeMap::new(), &line[end..]),
        };
        let value = match rest.strip_prefix(' ').map(str::parse::<f64>) {
            Some(Ok(v)) => v,
            _ => panic!("bad value: {line}"),
        };
        assert!(typed.contains(name), "no TYPE before {line}");
        assert!(helped.contains(name), "no HELP before {line}");
        out.push((name.to_string(), labels, value));
    }
    out
}

/// The value of the sample `name` with exactly these labels.
pub fn metric(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let want: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    samples
        .iter()
        .find(|(n, l, _)| n == name && *l == want)
        .map(|(_, _, v)| *v)
}
