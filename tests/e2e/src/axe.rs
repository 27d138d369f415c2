//! Accessibility checks: axe-core (pinned in `tools/package.json`) run in the page under test.

use crate::Browser;

/// One accessibility problem axe-core found.
#[derive(Debug)]
pub struct Violation {
    pub id: String,
    pub impact: String,
    pub help: String,
    pub targets: Vec<String>,
}

impl Browser {
    /// Runs axe-core on the current page and returns its serious and critical violations.
    ///
    /// axe is injected through WebDriver, which the page's Content-Security-Policy does not
    /// govern, so the check runs on the app exactly as the proxy serves it.
    pub async fn serious_a11y_violations(&self) -> Vec<Violation> {
        let path = std::env::var("USERDECK_AXE_JS").unwrap_or_else(|_| {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../tools/node_modules/axe-core/axe.min.js"
            )
            .into()
        });
        let source = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("axe-core at {path}: {e} (cargo xtask test installs it)"));
        self.client
            .execute(&source, Vec::new())
            .await
            .expect("inject axe-core");
        let result = self
            .client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                   axe.run(document, { resultTypes: ['violations'] })
                      .then(r => done(r.violations.map(v => ({
                          id: v.id, impact: v.impact || '', help: v.help,
                          targets: v.nodes.map(n => n.target.join(' ')) }))))
                      .catch(e => done({ error: String(e) }));"#,
                Vec::new(),
            )
            .await
            .expect("run axe-core");
        if let Some(error) = result.get("error") {
            panic!("axe-core failed: {error}");
        }
        result
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| Violation {
                id: v["id"].as_str().unwrap_or_default().into(),
                impact: v["impact"].as_str().unwrap_or_default().into(),
                help: v["help"].as_str().unwrap_or_default().into(),
                targets: v["targets"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t.as_str().map(String::from))
                    .collect(),
            })
            .filter(|v| matches!(v.impact.as_str(), "serious" | "critical"))
            .collect()
    }
}
