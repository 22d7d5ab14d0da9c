//! Interned symbols: the hot path carries a small integer, reports carry the text.

use std::collections::BTreeMap;

/// Index of a symbol in a [`SymbolTable`]; stable for the whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SymbolId(pub u32);

impl SymbolId {
    /// The id as a vector index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Bidirectional symbol <-> id map; ids are handed out in first-seen order.
#[derive(Debug, Clone, Default)]
pub struct SymbolTable {
    names: Vec<String>,
    ids: BTreeMap<String, SymbolId>,
}

impl SymbolTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// The id of `name`, adding it if new.
    pub fn intern(&mut self, name: &str) -> SymbolId {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = SymbolId(self.names.len() as u32);
        self.names.push(name.to_string());
        self.ids.insert(name.to_string(), id);
        id
    }

    /// The id of `name` if it was interned.
    pub fn get(&self, name: &str) -> Option<SymbolId> {
        self.ids.get(name).copied()
    }

    /// The text of `id`; `"?"` for an id this table never issued.
    pub fn name(&self, id: SymbolId) -> &str {
        self.names.get(id.index()).map_or("?", String::as_str)
    }

    /// Number of symbols.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when no symbol was interned.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}
