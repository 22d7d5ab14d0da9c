//! Helpers shared by the data crate's integration tests.

use lockstep_core::{Bar, SymbolTable};
use lockstep_data::{open_source, DataOptions};
use std::path::Path;

/// Every bar of the file at `path` (strict or lenient) and the symbols they name, or the
/// first error's text.
pub fn read_bars(path: &Path, lenient: bool) -> Result<(Vec<Bar>, SymbolTable), String> {
    let opts = DataOptions {
        lenient,
        ..DataOptions::default()
    };
    let mut src = open_source(path, &opts).map_err(|e| e.to_string())?;
    let mut symbols = SymbolTable::new();
    let mut bars = Vec::new();
    while let Some(b) = src.next_bar(&mut symbols).map_err(|e| e.0)? {
        bars.push(b);
    }
    Ok((bars, symbols))
}
