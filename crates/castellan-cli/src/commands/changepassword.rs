//! `castellan changepassword` and `castellan authenticate`.

use castellan_store::{Error, Store};

use crate::args::{Authenticate, ChangePassword};
use crate::output::{input_error, prompt_password, stdin_line};
use crate::Outcome;

pub(crate) async fn run(store: &Store, args: ChangePassword) -> Result<Outcome, Error> {
    let user = store
        .user(&args.username)
        .await?
        .ok_or_else(|| Error::NotFound {
            what: "user",
            name: args.username.clone(),
        })?;
    let password = if args.password_stdin {
        let p = stdin_line()?;
        if p.is_empty() {
            return Err(input_error(
                "aborted: the password on standard input is empty",
            ));
        }
        p
    } else {
        println!("Changing password for user '{}'", user.username);
        let mut chosen = None;
        for _ in 0..3 {
            let first = prompt_password("Password: ")?;
            let second = if first.is_empty() {
                String::new()
            } else {
                prompt_password("Password (again): ")?
            };
            if first.is_empty() || second.is_empty() {
                return Err(input_error("aborted"));
            }
            if first == second {
                chosen = Some(first);
                break;
            }
            println!("Passwords do not match. Please try again.");
        }
        chosen.ok_or_else(|| {
            input_error(format!(
                "Aborting password change for user '{}' after 3 attempts",
                user.username
            ))
        })?
    };
    store.set_password(&user.username, Some(&password)).await?;
    println!("Password changed successfully for user '{}'", user.username);
    Ok(Outcome::Success)
}

pub(crate) async fn authenticate(store: &Store, args: Authenticate) -> Result<Outcome, Error> {
    let password = stdin_line()?;
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
