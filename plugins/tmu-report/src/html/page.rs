//! The page itself: markdown turned into HTML (pulldown-cmark, tables on, raw HTML escaped), the
//! SVG plots inlined, the provenance tables, and a style sheet inside the page.

use std::fmt::Write as _;

use pulldown_cmark::{Event, Options, Parser, html};
use serde_json::Value;

use super::provenance::Producer;

/// One plot to inline: its file name, what it shows, and the SVG text.
pub struct Plot {
    pub name: String,
    pub caption: String,
    pub svg: String,
}

/// Everything one page shows.
pub struct PageParts<'a> {
    pub title: &'a str,
    pub stage: &'a str,
    pub kind: &'a str,
    pub plugin: &'a str,
    pub sdk: &'a str,
    pub seed: u64,
    pub markdown: &'a str,
    pub plots: &'a [Plot],
    pub config: &'a Value,
    pub producers: &'a [Producer],
}

const STYLE: &str = r#"
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1d2330;
       background: #fff; margin: 0 auto; padding: 1.5rem 2rem 4rem; max-width: 1280px; line-height: 1.45; }
h1 { font-size: 1.8rem; margin: 0.2rem 0 0.4rem; }
h2 { font-size: 1.35rem; margin-top: 2.2rem; padding-bottom: 0.25rem; border-bottom: 2px solid #d9dee8; }
h3 { font-size: 1.1rem; margin-top: 1.6rem; }
p, li { max-width: 60rem; }
.lede { color: #4a5263; margin-top: 0; }
code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.9em;
       background: #f1f3f7; padding: 0.05rem 0.3rem; border-radius: 3px; }
pre { background: #f6f8fa; border: 1px solid #e1e5ec; padding: 0.7rem 0.9rem; overflow-x: auto; font-size: 0.85rem; }
pre code { background: none; padding: 0; }
.table { overflow-x: auto; margin: 0.6rem 0 1.2rem; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 0.92rem; }
th, td { padding: 0.35rem 0.75rem; border-bottom: 1px solid #e3e7ee; white-space: nowrap; }
th { background: #eef1f6; text-align: left; font-weight: 600; border-bottom: 2px solid #c9d0dc; white-space: normal; vertical-align: bottom; }
td { text-align: right; }
td:first-child { text-align: left; }
tbody tr:nth-child(even) { background: #f8f9fb; }
tbody tr:hover { background: #eef4ff; }
figure { margin: 1rem 0 2rem; }
figure svg { display: block; max-width: 100%; height: auto; border: 1px solid #e3e7ee; }
figcaption { color: #4a5263; margin-top: 0.4rem; max-width: 60rem; }
details { margin: 0.4rem 0; }
summary { cursor: pointer; }
td.key { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.8rem; text-align: left; }
td.text { text-align: left; white-space: normal; }
td.key { white-space: normal; word-break: break-all; min-width: 14rem; }
"#;

/// HTML-escapes text for element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Markdown to HTML; raw HTML in the markdown is shown as text, and every table is wrapped in a
/// scrolling `div` so a wide one does not widen the page.
fn markdown_html(md: &str) -> String {
    let parser = Parser::new_ext(md, Options::ENABLE_TABLES).map(|event| match event {
        Event::Html(t) | Event::InlineHtml(t) => Event::Text(t),
        e => e,
    });
    let mut out = String::new();
    html::push_html(&mut out, parser);
    let out = out.replace("<table>", "<div class=\"table\"><table>").replace("</table>", "</table></div>");
    header_breaks(&out)
}

/// Lets a long column title (`cost.whole.wall_ratio`) wrap after its dots, so a wide table fits
/// the page; only the text of `<th>` cells changes.
fn header_breaks(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<th") {
        let Some(open_end) = rest[start..].find('>') else { break };
        let content = start + open_end + 1;
        let Some(len) = rest[content..].find("</th>") else { break };
        out.push_str(&rest[..content]);
        out.push_str(&rest[content..content + len].replace('.', ".<wbr>"));
        rest = &rest[content + len..];
    }
    out.push_str(rest);
    out
}

/// The SVG element of a plot file: the XML declaration (invalid inside HTML) dropped.
fn inline_svg(svg: &str) -> &str {
    let s = svg.trim_start();
    match (s.starts_with("<?xml"), s.find("?>")) {
        (true, Some(end)) => s[end + 2..].trim_start(),
        _ => s,
    }
}

/// The whole page.
pub fn render(p: &PageParts) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(p.title)
    );
    let mut lede = String::new();
    let _ = writeln!(
        lede,
        "<p class=\"lede\">Stage <code>{}</code> (<code>{}</code>) of {}. The same tables as <code>report.md</code>, \
         the plots of <code>table/</code>, and at the end the stage's config and where its inputs came from.</p>",
        escape(p.stage),
        escape(p.kind),
        escape(p.plugin)
    );
    // The lede goes under the markdown's title (its first heading), or first when it has none.
    let body = markdown_html(p.markdown);
    match body.find("</h1>") {
        Some(end) => {
            h.push_str(&body[..end + 5]);
            h.push('\n');
            h.push_str(&lede);
            h.push_str(&body[end + 5..]);
        }
        None => {
            h.push_str(&lede);
            h.push_str(&body);
        }
    }
    if !p.plots.is_empty() {
        h.push_str("<h2>Plots</h2>\n");
        for plot in p.plots {
            let _ = writeln!(
                h,
                "<figure>\n{}\n<figcaption><strong>{}</strong>: {}</figcaption>\n</figure>",
                inline_svg(&plot.svg),
                escape(&plot.name),
                escape(&plot.caption)
            );
        }
    }
    provenance(&mut h, p);
    h.push_str("</body>\n</html>\n");
    h
}

/// A config as a table of its top-level settings, each value as compact JSON.
fn config_table(h: &mut String, config: &Value) {
    let Some(map) = config.as_object() else {
        let _ = writeln!(h, "<pre><code>{}</code></pre>", escape(&pretty(config)));
        return;
    };
    h.push_str("<div class=\"table\"><table>\n<thead><tr><th>setting</th><th>value</th></tr></thead>\n<tbody>\n");
    for (k, v) in map {
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td class=\"text\"><code>{}</code></td></tr>",
            escape(k),
            escape(&v.to_string())
        );
    }
    h.push_str("</tbody>\n</table></div>\n");
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

/// The run's config, versions and cache keys.
fn provenance(h: &mut String, p: &PageParts) {
    h.push_str("<h2>This report's run</h2>\n");
    let _ = writeln!(
        h,
        "<p>How this page was made: the report stage's plugin and SDK, its seed (the bootstrap's \
         generator is drawn from it) and its config with every default filled in.</p>\n\
         <div class=\"table\"><table>\n<thead><tr><th>stage</th><th>kind</th><th>plugin</th><th>SDK</th><th>seed</th></tr></thead>\n\
         <tbody><tr><td>{}</td><td class=\"text\">{}</td><td class=\"text\">{}</td><td class=\"text\">{}</td><td>{}</td></tr></tbody>\n</table></div>",
        escape(p.stage),
        escape(p.kind),
        escape(p.plugin),
        escape(p.sdk),
        p.seed
    );
    config_table(h, p.config);

    h.push_str("<h2>Inputs: producers, versions and cache keys</h2>\n");
    let _ = writeln!(
        h,
        "<p>Each cache entry this report read, as the host recorded it in the entry's \
         <code>entry.json</code>: the producing stage's kind, plugin version and SDK, its cache key \
         (<code>runs/.cache/&lt;key&gt;/</code>), seed and device. Rerunning the pipeline with the same \
         plugins, configs and data finds the same keys.</p>"
    );
    h.push_str(
        "<div class=\"table\"><table>\n<thead><tr><th>output</th><th>read as</th><th>kind</th><th>plugin</th><th>SDK</th>\
         <th>cache key</th><th>seed</th><th>device</th></tr></thead>\n<tbody>\n",
    );
    let dash = || "-".to_string();
    for prod in p.producers {
        let plugin = match (prod.field("plugin.name"), prod.field("plugin.version")) {
            (Some(n), Some(v)) => format!("{n} {v}"),
            _ => dash(),
        };
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td class=\"text\">{}</td><td class=\"text\">{}</td><td class=\"text\">{}</td>\
             <td class=\"text\">{}</td><td class=\"key\">{}</td><td>{}</td><td class=\"text\">{}</td></tr>",
            escape(&prod.source),
            escape(&prod.used_as.join(", ")),
            escape(&prod.field("kind").unwrap_or_else(dash)),
            escape(&plugin),
            escape(&prod.field("plugin.sdk").unwrap_or_else(dash)),
            escape(prod.key().unwrap_or("not from a tmu store")),
            escape(&prod.field("seed").unwrap_or_else(dash)),
            escape(&prod.field("device_used").unwrap_or_else(dash)),
        );
    }
    h.push_str("</tbody>\n</table></div>\n");
    let with_config: Vec<&Producer> = p.producers.iter().filter(|x| x.entry.is_some()).collect();
    if !with_config.is_empty() {
        h.push_str(
            "<h3>The producers' configs</h3>\n<p>Each producing stage's config with its defaults filled in.</p>\n",
        );
        for prod in with_config {
            let config = prod.entry.as_ref().and_then(|e| e.get("resolved_config")).cloned().unwrap_or(Value::Null);
            let _ = writeln!(
                h,
                "<details><summary><code>{}</code> ({})</summary>\n<pre><code>{}</code></pre>\n</details>",
                escape(&prod.source),
                escape(prod.key().unwrap_or("")),
                escape(&pretty(&config))
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_the_five_characters() {
        assert_eq!(escape(r#"<a href="x">&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
    }

    #[test]
    fn raw_html_in_markdown_is_text_and_tables_scroll() {
        let h = markdown_html("a <script>x</script> b\n\n| m | v |\n|---|---|\n| `t` | 1 |\n");
        assert!(h.contains("&lt;script&gt;"), "{h}");
        assert!(!h.contains("<script>"), "{h}");
        assert!(h.contains("<div class=\"table\"><table>"), "{h}");
        assert!(h.contains("<td><code>t</code></td>"), "{h}");
    }

    #[test]
    fn long_column_titles_may_wrap_after_dots_and_cells_keep_theirs() {
        let h = markdown_html("| cost.whole.wall_ratio | b |\n|---|---|\n| 0.5 | x.y |\n");
        assert!(h.contains("<th>cost.<wbr>whole.<wbr>wall_ratio</th>"), "{h}");
        assert!(h.contains("<td>0.5</td>") && h.contains("<td>x.y</td>"), "{h}");
    }

    #[test]
    fn the_xml_declaration_is_dropped() {
        assert_eq!(inline_svg("<?xml version=\"1.0\"?>\n<svg/>"), "<svg/>");
        assert_eq!(inline_svg("<svg/>"), "<svg/>");
    }
}
