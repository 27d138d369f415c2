//! Text out of the HTML a CRM sends: App CRM's mail signatures, shown as text and never as
//! markup, and the error pages a framework or a gateway answers with where JSON was expected
//! (Zurmo's unknown routes, Laravel's 404, nginx's 502), so an error reads "Error 404 Unable to
//! resolve the request." rather than `<!DOCTYPE html><html><head>…`.

/// The visible text of `html`: the `<head>` skipped when there is a `<body>`, `<script>` and
/// `<style>` contents dropped, every tag read as a space, the common entities decoded and
/// whitespace collapsed. A `<` that opens no tag ends the text there, as a browser would hide it.
pub fn text_of(html: &str) -> String {
    // ASCII lowercasing keeps every byte offset, so positions found in `lower` slice `html`.
    let lower = html.to_ascii_lowercase();
    let mut at = lower.find("<body").unwrap_or(0);
    let mut out = String::with_capacity(html.len() - at);
    while at < html.len() {
        let rest = &lower[at..];
        let Some(open) = rest.find('<') else {
            out.push_str(&html[at..]);
            break;
        };
        out.push_str(&html[at..at + open]);
        at += open;
        let rest = &lower[at..];
        // Where the tag (or, for a script or style, its closing tag) ends.
        let skip_to = ["script", "style"]
            .iter()
            .find(|name| rest[1..].starts_with(*name))
            .map_or(Some(0), |name| rest.find(&format!("</{name}")))
            .and_then(|from| rest[from..].find('>').map(|end| from + end + 1));
        let Some(skip) = skip_to else { break };
        out.push(' ');
        at += skip;
    }
    let text = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether `body` is an HTML page rather than the JSON an API sends.
pub fn is_page(body: &[u8]) -> bool {
    body.trim_ascii_start().first() == Some(&b'<')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_pages_read_as_their_body_text() {
        // The sandbox's (and Zurmo's) framework page for an unknown route.
        let zurmo = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Zurmo - Error</title>\
                     </head><body><h2>Error 404</h2><div class=\"error\">Unable to resolve the \
                     request.</div></body></html>";
        assert_eq!(text_of(zurmo), "Error 404 Unable to resolve the request.");
        // Laravel's: its styles are in the head, and a script in the body says nothing.
        let laravel = "<html><head><title>Not Found</title><style>body{color:#a0aec0}</style>\
                       </head><BODY class=\"antialiased\"><div>404</div><div>|</div>\
                       <div>Not Found</div><script>var x = '<b>';</script></BODY></html>";
        assert_eq!(text_of(laravel), "404 | Not Found");
        let nginx = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
                     <center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n\
                     </body>\r\n</html>\r\n";
        assert_eq!(text_of(nginx), "502 Bad Gateway nginx");
    }

    #[test]
    fn fragments_lose_their_markup_and_keep_their_text() {
        assert_eq!(
            text_of("<p><b>Bold</b> <img src=x onerror=alert(1)>&amp; co</p>"),
            "Bold & co"
        );
        assert_eq!(text_of("plain, no tags"), "plain, no tags");
        assert_eq!(text_of("Zoë <i>Ö</i>"), "Zoë Ö");
        // Unclosed: nothing after the stray `<` is shown, and nothing panics.
        assert_eq!(text_of("before <script>never closed"), "before");
        assert_eq!(text_of("a <b"), "a");
        assert_eq!(text_of("<style>p{}</style"), "");
    }

    #[test]
    fn pages_are_told_from_json() {
        assert!(is_page(b"  \r\n<!DOCTYPE html>"));
        assert!(!is_page(br#"{"message":"<b>"}"#));
        assert!(!is_page(b""));
    }
}
