//! One module per command family; each is a thin layer over the store.

mod audit;
mod changepassword;
mod check;
mod createsuperuser;
mod explain;
mod group;
mod matrix;
mod migrate;
mod objects;
mod perm;
mod serve;
mod sync;
mod transfer;
mod user;

use castellan_store::{Error, Store};

use crate::args::{Cli, Command};
use crate::Outcome;

/// Runs one command.
pub(crate) async fn dispatch(store: &Store, cli: Cli) -> Result<Outcome, Error> {
    if !matches!(cli.command, Command::Migrate(_)) && !store.is_migrated().await? {
        return Err(Error::Schema(
            "this database has no Django auth tables yet; run `castellan migrate` first (or point --database-url at a Django database)".into(),
        ));
    }
    match cli.command {
        Command::Migrate(a) => migrate::run(store, a).await,
        Command::Createsuperuser(a) => createsuperuser::run(store, a).await,
        Command::Changepassword(a) => changepassword::run(store, a).await,
        Command::Authenticate(a) => changepassword::authenticate(store, a).await,
        Command::User(cmd) => user::run(store, cmd).await,
        Command::Group(cmd) => group::run(store, cmd).await,
        Command::Perm(cmd) => perm::run(store, cmd).await,
        Command::Check(a) => check::check(store, a).await,
        Command::Perms(a) => match &a.object {
            Some(object) => objects::perms(store, &a.username, object, a.json).await,
            None => check::perms(store, &a.username, a.json).await,
        },
        Command::Objects(a) => objects::objects(store, a).await,
        Command::WhoHas(a) => check::who_has(store, a).await,
        Command::Audit(a) => audit::run(store, a).await,
        Command::Export(a) => transfer::export(store, a).await,
        Command::Import(a) => transfer::import(store, a).await,
        Command::Explain(a) => explain::run(store, a).await,
        Command::Matrix(a) => matrix::run(store, a).await,
        Command::Sync(a) => sync::run(store, a).await,
        Command::Serve(a) => serve::run(store, a).await,
    }
}
