//! `sqlx::migrate!` embeds the migration files at compile time, but cargo only reruns a build
//! when Rust sources change. This line makes adding or editing a migration rebuild the crate.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
