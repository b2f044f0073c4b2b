//! Entry point of the local SpacetimeDB server used by spacetime-gateway's tests.
//!
//! The server itself is the `spacetimedb-standalone` library; this file only builds the command
//! line, the thread layout and the async runtime around it, as the upstream binary does.

use spacetimedb::startup;

fn command() -> clap::Command {
    clap::Command::new("spacetimedb-standalone")
        .about("SpacetimeDB standalone 1.3.0, built for spacetime-gateway's local tests")
        .subcommand_required(true)
        .arg_required_else_help(true)
        .subcommands(spacetimedb_standalone::get_subcommands())
}

fn main() -> anyhow::Result<()> {
    // A panic on any server thread must end the process: a half-dead test server would hang tests
    // instead of failing them.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default_hook(info);
        std::process::exit(1);
    }));

    let cores = startup::pin_threads();
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all();
    cores.tokio.configure(&mut runtime);
    let runtime = runtime.build()?;
    cores.rayon.configure(runtime.handle());

    let matches = command().get_matches();
    let (name, args) = matches.subcommand().expect("clap enforces a subcommand");
    runtime.block_on(spacetimedb_standalone::exec_subcommand(name, args, cores.databases))
}
