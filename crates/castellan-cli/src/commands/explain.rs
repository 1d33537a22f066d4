//! `castellan explain USER PERM` / `castellan explain --anonymous PERM`.

use castellan_store::{Error, Store};

use crate::args::Explain;
use crate::output::{self, input_error};
use crate::Outcome;

pub(crate) async fn run(store: &Store, args: Explain) -> Result<Outcome, Error> {
    if let Some(object) = &args.object {
        let [username, perm] = args.args.as_slice() else {
            return Err(input_error(
                "give a username and a permission: castellan explain --object APP.MODEL:PK USER APP.CODENAME",
            ));
        };
        let obj = castellan_core::ObjectRef::parse(object)?;
        let why = store.explain_object(username, perm, &obj).await?;
        return show(&why, &why.message, why.allowed, args.json);
    }
    let why = match (args.anonymous, args.args.as_slice()) {
        (true, [perm]) => store.explain_anonymous(perm).await?,
        (false, [username, perm]) => {
            store
                .explain(username, perm)
                .await?
                .ok_or_else(|| Error::NotFound {
                    what: "user",
                    name: username.clone(),
                })?
        }
        (true, _) => {
            return Err(input_error(
                "with --anonymous give only the permission: castellan explain --anonymous APP.CODENAME",
            ))
        }
        (false, _) => {
            return Err(input_error(
                "give a username and a permission: castellan explain USER APP.CODENAME (or --anonymous APP.CODENAME)",
            ))
        }
    };
    show(&why, &why.message, why.allowed, args.json)
}

/// Prints an explanation (JSON, or its sentence); exit 0 when allowed, 1 when denied.
fn show(
    why: &impl serde::Serialize,
    message: &str,
    allowed: bool,
    json: bool,
) -> Result<Outcome, Error> {
    if json {
        let value = serde_json::to_value(why)
            .map_err(|e| input_error(format!("cannot encode the explanation: {e}")))?;
        output::json(&value);
    } else {
        println!("{message}");
    }
    Ok(if allowed {
        Outcome::Success
    } else {
        Outcome::Denied
    })
}
