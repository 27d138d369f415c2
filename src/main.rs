//! Entry point of the browser bundle: Trunk builds this binary to wasm and calls `main`.

fn main() {
    userdeck::start();
}
