//! Starts one headless Chromium, prints the process group of its driver, then waits to be
//! ended by a signal. `tests/signals.rs` runs it to check that a signal that ends a harness
//! also ends the browsers it started.

use userdeck_e2e::Browser;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let browser = Browser::start().await;
    println!("{}", browser.process_group());
    std::future::pending::<()>().await;
}
