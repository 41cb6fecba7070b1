//! Repository descriptions are Markdown written by users; the console shows them as HTML.
//!
//! Raw HTML in the source is escaped rather than passed through, and links or images whose
//! address uses a scheme other than http(s), mailto or a relative path are defused, so a
//! description cannot run script in the console.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, html};

/// Renders Markdown to HTML that is safe to insert into the page.
pub fn to_safe_html(source: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events = Parser::new_ext(source, options).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        other => other,
    });
    let mut out = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

/// The address itself when it is relative or http(s)/mailto, `#` otherwise.
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let lowered = url.trim().to_ascii_lowercase();
    let scheme = lowered
        .split_once(':')
        .map(|(s, _)| s)
        .filter(|s| !s.contains(['/', '?', '#']));
    match scheme {
        None | Some("http" | "https" | "mailto") => url,
        Some(_) => CowStr::Borrowed("#"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_markdown() {
        let html = to_safe_html("# App\n\nRun **it** with `crane`.\n\n- one\n- two\n");
        assert!(html.contains("<h1>App</h1>"), "{html}");
        assert!(html.contains("<strong>it</strong>"));
        assert!(html.contains("<code>crane</code>"));
        assert!(html.contains("<li>one</li>"));
    }

    #[test]
    fn escapes_raw_html() {
        let html = to_safe_html("hi <script>alert(1)</script>\n\n<img src=x onerror=alert(1)>");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn defuses_script_links() {
        let html = to_safe_html("[x](javascript:alert(1)) [y](JavaScript:alert(2)) ![z](data:x)");
        assert!(!html.to_ascii_lowercase().contains("javascript:"), "{html}");
        assert!(!html.contains("data:"), "{html}");
        let html = to_safe_html("[docs](https://example.com/a) [rel](./b.md) [q](/c?d=e:f)");
        assert!(html.contains("href=\"https://example.com/a\""), "{html}");
        assert!(html.contains("href=\"./b.md\""), "{html}");
        assert!(html.contains("href=\"/c?d=e:f\""), "{html}");
    }
}
