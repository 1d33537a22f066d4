//! `castellan changepassword` and `castellan authenticate`.

use castellan_core::password_validation::UserAttributes;
use castellan_store::{Error, Store};

use crate::args::{Authenticate, ChangePassword};
use crate::output::{input_error, prompt_password, stdin_password};
use crate::password::{problems, require_valid};
use crate::Outcome;

/// Django's number of tries.
const MAX_TRIES: usize = 3;

pub(crate) async fn run(store: &Store, args: ChangePassword) -> Result<Outcome, Error> {
    let user = store
        .user(&args.username)
        .await?
        .ok_or_else(|| Error::NotFound {
            what: "user",
            name: args.username.clone(),
        })?;
    let attributes = UserAttributes::of_user(&user);
    let password = if args.password_stdin {
        let p = stdin_password()?;
        if p.is_empty() {
            return Err(input_error(
                "aborted: the password on standard input is empty",
            ));
        }
        require_valid(&p, &attributes, args.skip_validation)?;
        p
    } else {
        println!("Changing password for user '{}'", user.username);
        // As Django: a mismatch and a password that fails validation each use one of 3 tries.
        let mut chosen = None;
        for _ in 0..MAX_TRIES {
            let first = prompt_password("Password: ")?;
            let second = if first.is_empty() {
                String::new()
            } else {
                prompt_password("Password (again): ")?
            };
            if first.is_empty() || second.is_empty() {
                return Err(input_error("aborted"));
            }
            if first != second {
                println!("Passwords do not match. Please try again.");
                continue;
            }
            let messages = if args.skip_validation {
                Vec::new()
            } else {
                problems(&second, &attributes)
            };
            if messages.is_empty() {
                chosen = Some(first);
                break;
            }
            eprintln!("{}", messages.join("\n"));
        }
        chosen.ok_or_else(|| {
            input_error(format!(
                "Aborting password change for user '{}' after {MAX_TRIES} attempts",
                user.username
            ))
        })?
    };
    store.set_password(&user.username, Some(&password)).await?;
    println!("Password changed successfully for user '{}'", user.username);
    Ok(Outcome::Success)
}

pub(crate) async fn authenticate(store: &Store, args: Authenticate) -> Result<Outcome, Error> {
    let password = stdin_password()?;
    match store.authenticate(&args.username, &password).await? {
        Some(user) => {
            println!("authenticated: {}", user.username);
            Ok(Outcome::Success)
        }
        None => {
            println!("not authenticated");
            Ok(Outcome::Denied)
        }
    }
}
