//! Rows kept by flag × variant name for the engine's metrics (the evaluation counters and
//! the outcomes): a sorted copy-on-write list behind an atomic pointer, so that finding an
//! existing row takes no lock and only a new row takes the writers' lock; at most a fixed
//! number of rows, after which further pairs share one row under flag [`OTHER`] with no
//! variant. Also the label escaping of the Prometheus text format both render with.

use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;

/// The flag label of the row that pairs beyond a registry's cap share (variant `""`).
pub const OTHER: &str = "_other";

/// One flag × variant row and what it keeps.
pub(crate) struct Row<T> {
    pub(crate) flag: Box<str>,
    pub(crate) variant: Box<str>,
    pub(crate) data: T,
}

/// Rows sorted by flag then variant (byte order).
pub(crate) struct Registry<T> {
    /// Found by binary search, replaced whole when a row is added.
    rows: ArcSwap<Vec<Arc<Row<T>>>>,
    /// Taken by writers only.
    writers: Mutex<()>,
    /// At most this many rows (the [`OTHER`] row aside).
    cap: usize,
}

/// Where `flag` × `variant` is (or would go) in sorted `rows`.
fn search<T>(rows: &[Arc<Row<T>>], flag: &str, variant: &str) -> Result<usize, usize> {
    rows.binary_search_by(|row| (&*row.flag, &*row.variant).cmp(&(flag, variant)))
}

impl<T: Default> Registry<T> {
    /// An empty registry of at most `cap` rows.
    pub(crate) fn new(cap: usize) -> Self {
        Registry { rows: ArcSwap::from_pointee(Vec::new()), writers: Mutex::new(()), cap }
    }

    /// The row of `flag` × `variant`: the existing one (no lock), a new one, or the
    /// [`OTHER`] row once the registry is full.
    #[inline]
    pub(crate) fn row(&self, flag: &str, variant: &str) -> Arc<Row<T>> {
        let rows = self.rows.load();
        match search(&rows, flag, variant).ok().and_then(|at| rows.get(at)) {
            Some(found) => Arc::clone(found),
            None => self.insert(flag, variant),
        }
    }

    #[cold]
    fn insert(&self, flag: &str, variant: &str) -> Arc<Row<T>> {
        let _writer = self.writers.lock().unwrap_or_else(PoisonError::into_inner);
        let current = self.rows.load_full();
        let found = |flag: &str, variant: &str| {
            search(&current, flag, variant).ok().and_then(|at| current.get(at)).map(Arc::clone)
        };
        if let Some(row) = found(flag, variant) {
            return row;
        }
        let (flag, variant) = if current.len() >= self.cap { (OTHER, "") } else { (flag, variant) };
        if let Some(row) = found(flag, variant) {
            return row;
        }
        let added = Arc::new(Row { flag: flag.into(), variant: variant.into(), data: T::default() });
        let at = search(&current, flag, variant).unwrap_or_else(|at| at);
        let mut rows = Vec::with_capacity(current.len() + 1);
        rows.extend(current.iter().take(at).cloned());
        rows.push(Arc::clone(&added));
        rows.extend(current.iter().skip(at).cloned());
        self.rows.store(Arc::new(rows));
        added
    }

    /// Every row so far, sorted by flag then variant.
    pub(crate) fn rows(&self) -> Arc<Vec<Arc<Row<T>>>> {
        self.rows.load_full()
    }
}

/// A label value as the Prometheus text format writes it (`\\`, `\"`, `\n` escaped).
pub(crate) fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}
