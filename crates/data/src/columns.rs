//! Which input column feeds which bar field, chosen once per file from its schema.

/// The bar fields read from a file, in a fixed order.
pub const PRICE_FIELDS: [&str; 4] = ["open", "high", "low", "close"];

/// Names accepted for the timestamp column, in order of preference.
pub const TS_NAMES: [&str; 2] = ["ts", "ts_utc"];

/// Picks the source column of `field`: the exact `<field>_text` column wins over `<field>`.
pub fn pick_value_column<'a>(names: &'a [String], field: &str) -> Option<(usize, &'a str)> {
    let text = format!("{field}_text");
    names
        .iter()
        .position(|n| *n == text)
        .or_else(|| names.iter().position(|n| n == field))
        .map(|i| (i, names[i].as_str()))
}

/// Picks the timestamp column.
pub fn pick_ts_column(names: &[String]) -> Option<(usize, &str)> {
    TS_NAMES
        .iter()
        .find_map(|t| names.iter().position(|n| n == t))
        .map(|i| (i, names[i].as_str()))
}

/// A readable list of the columns a file has, for "missing column" messages.
pub fn list(names: &[String]) -> String {
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_column_wins() {
        let names: Vec<String> = ["ts", "close", "close_text"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(pick_value_column(&names, "close"), Some((2, "close_text")));
        assert_eq!(pick_ts_column(&names), Some((0, "ts")));
        assert_eq!(pick_value_column(&names, "open"), None);
    }
}
