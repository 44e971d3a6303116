//! The `caliopen` command: see `caliopen --help`.

#![allow(clippy::print_stdout)] // a CLI answers on stdout

use anyhow::Context;
use caliopen_runtime::cli::{self, Cli};
use caliopen_runtime::config::Config;
use clap::Parser;

/// mimalloc rather than glibc's malloc: message pages and parsed mail are many
/// short-lived buffers of a few KB to a few hundred KB, which glibc serves with
/// arena locks and consolidation on free (REST list under `wrk`: 1.36x the requests/s
/// with mimalloc, alternated runs; see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    private_files();
    caliopen_runtime::trim::configure();
    let args = Cli::parse();
    let config = Config::load(&args.config)?;
    init_logging(&config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(cli::run(args.command, config))
}

/// Every file and folder this process creates (store, blobs, index, caches, the
/// admin token) is its owner's only: mode 0600 / 0700.
fn private_files() {
    #[cfg(unix)]
    // SAFETY: umask only sets the process's file mode mask; it touches no memory
    // and cannot fail. It runs first, before any thread is started.
    #[allow(unsafe_code)]
    unsafe {
        libc::umask(0o077);
    }
}

fn init_logging(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log.filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.log.format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}
