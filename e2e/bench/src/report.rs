//! The result table: one row per figure, both registries, their ratio and each figure as a
//! fraction of the machine limit that bounds it.

use std::fmt::Write as _;

/// How a figure is measured and printed.
#[derive(Clone, Copy)]
pub enum Unit {
    BytesPerSec,
    PerSec,
    Millis,
    Seconds,
    Bytes,
}

impl Unit {
    fn suffix(self) -> &'static str {
        match self {
            Self::BytesPerSec => "MB/s",
            Self::PerSec => "req/s",
            Self::Millis => "ms",
            Self::Seconds => "s",
            Self::Bytes => "MB",
        }
    }

    fn format(self, value: f64) -> String {
        match self {
            Self::BytesPerSec | Self::Bytes => format!("{:.1}", value / 1e6),
            Self::PerSec => format!("{value:.0}"),
            Self::Millis => format!("{value:.2}"),
            Self::Seconds => format!("{value:.3}"),
        }
    }
}

/// One figure for Berth (`values[0]`) and distribution (`values[1]`).
pub struct Row {
    pub group: &'static str,
    pub name: String,
    pub unit: Unit,
    pub values: [f64; 2],
    /// The machine limit bounding the figure, in the same unit, and its name.
    pub limit: Option<(f64, &'static str)>,
}

impl Row {
    pub fn new(
        group: &'static str,
        name: String,
        unit: Unit,
        values: [f64; 2],
        limit: Option<(f64, &'static str)>,
    ) -> Self {
        Self {
            group,
            name,
            unit,
            values,
            limit,
        }
    }
}

fn percent(value: f64, limit: Option<(f64, &'static str)>) -> String {
    limit.map_or_else(String::new, |(l, _)| format!("{:.0}%", 100.0 * value / l))
}

/// The table in Markdown, which also reads well on a terminal.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str("| group | figure | unit | Berth | distribution | Berth/distribution | Berth of limit | distribution of limit | limit |\n");
    out.push_str("|---|---|---|---:|---:|---:|---:|---:|---|\n");
    for row in rows {
        let ratio = if row.values[1] > 0.0 {
            format!("{:.2}", row.values[0] / row.values[1])
        } else {
            "n/a".into()
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            row.group,
            row.name,
            row.unit.suffix(),
            row.unit.format(row.values[0]),
            row.unit.format(row.values[1]),
            ratio,
            percent(row.values[0], row.limit),
            percent(row.values[1], row.limit),
            row.limit.map_or_else(String::new, |(l, name)| format!(
                "{name} {}",
                row.unit.format(l)
            )),
        );
    }
    out
}
