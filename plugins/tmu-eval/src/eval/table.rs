//! A markdown table whose columns are padded to equal width, so that it reads well as plain
//! text in a terminal and renders as a table elsewhere.

/// Column alignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A table under construction.
#[derive(Clone, Debug)]
pub struct Table {
    header: Vec<String>,
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these columns; the first is left-aligned, the rest right-aligned (numbers).
    pub fn new(header: Vec<String>) -> Self {
        let align = (0..header.len()).map(|i| if i == 0 { Align::Left } else { Align::Right }).collect();
        Table { header, align, rows: Vec::new() }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        assert_eq!(cells.len(), self.header.len(), "one cell per column");
        self.rows.push(cells);
    }

    /// The table as markdown, every column padded to its widest cell.
    pub fn render(&self) -> String {
        let width = |j: usize| {
            std::iter::once(&self.header[j])
                .chain(self.rows.iter().map(|r| &r[j]))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
                .max(3)
        };
        let widths: Vec<usize> = (0..self.header.len()).map(width).collect();
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .zip(&self.align)
                .map(|((c, &w), a)| match a {
                    Align::Left => format!("{c:<w$}"),
                    Align::Right => format!("{c:>w$}"),
                })
                .collect();
            format!("| {} |\n", padded.join(" | "))
        };
        let rule: Vec<String> = widths
            .iter()
            .zip(&self.align)
            .map(|(&w, a)| match a {
                Align::Left => format!(":{}", "-".repeat(w - 1)),
                Align::Right => format!("{}:", "-".repeat(w - 1)),
            })
            .collect();
        let mut out = line(&self.header);
        out.push_str(&format!("| {} |\n", rule.join(" | ")));
        for r in &self.rows {
            out.push_str(&line(r));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_padded_and_aligned() {
        let mut t = Table::new(vec!["method".into(), "acc".into()]);
        t.row(vec!["tmu".into(), "99.1".into()]);
        t.row(vec!["finetune".into(), "7.0".into()]);
        assert_eq!(t.render(), "| method   |  acc |\n| :------- | ---: |\n| tmu      | 99.1 |\n| finetune |  7.0 |\n");
    }
}
